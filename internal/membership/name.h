/* Member names: the name a member is known by in the cluster (the
 * "members" table, `therm cluster add NAME`, the join token).
 *
 * A valid name is 1 to 63 characters of a-z, 0-9 and '-', not starting or
 * ending with '-': an RFC 1123 host name label in lower case. Names are
 * compared byte for byte, so upper case is refused rather than folded; the
 * label form lets a name serve as a DNS name or a certificate SAN. */
#ifndef TM_MEMBERSHIP_NAME_H
#define TM_MEMBERSHIP_NAME_H

#define MEMBER_NAME_MAX 63 /* characters, without the NUL */

/* 0 if NAME (borrowed) is a valid member name. Otherwise TM_INVALID and
 * ERRMSG (TM_ERRMSG_SIZE bytes) says why, e.g.
 *   member name is empty
 *   member name is longer than 63 characters
 *   member name "Node1" has 'N' at byte 0 (allowed: a-z, 0-9 and '-')
 *   member name "node-" ends with '-' */
int member_name_check(const char *name, char *errmsg);

#endif /* TM_MEMBERSHIP_NAME_H */
