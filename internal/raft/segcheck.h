/* Our own check of raft_uv's closed segment files, run before raft_start.
 *
 * raft 0.15 (auto-recovery off) does refuse a damaged closed segment, but
 * its loader leaks the entries it read before the bad batch, and its
 * message does not say which entries are lost. This check reads every
 * closed segment ("%016llu-%016llu") in the raft directory and verifies
 * the format version, each batch's header and data checksums (raft's
 * CRC-32, src/byte.c) and the entry count the name promises; it never
 * writes. Open segments are left to raft: their tail may be torn after a
 * crash, and the watermark catches what raft drops there. The segment
 * format is raft's (doc/storage.md points to it). */
#ifndef TM_RAFT_SEGCHECK_H
#define TM_RAFT_SEGCHECK_H

/* 0 if every closed segment in DIR is whole; TM_CORRUPT with errmsg
 * "segment DIR/NAME: batch K (entries A..B) at byte N: PROBLEM", or TM_IO
 * when a file cannot be read. */
int segcheck_closed(const char *dir, char *errmsg);

#endif /* TM_RAFT_SEGCHECK_H */
