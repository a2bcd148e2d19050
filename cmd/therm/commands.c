/* The command tree's root. A new command group (sql, backup, cluster)
 * drops in with one line here and a file of its own. */
#include "cmd/therm/cli.h"

static const struct therm_command *const root_children[] = {
    &therm_cmd_version,
    &therm_cmd_info,
    &therm_cmd_config,
    &therm_cmd_trust,
    &therm_cmd_daemon,
    &therm_cmd_sql,
    &therm_cmd_backup,
    &therm_cmd_restore,
    &therm_cmd_cluster,
    &therm_cmd_init,
    &therm_cmd_monitor,
    NULL,
};

const struct therm_command therm_root = {
    .name = "therm",
    .summary = "Manage thermionic daemons and clusters.",
    .description =
	"Talks to the local daemon over its unix socket (root only; the "
	"directory\nis $THERMIONIC_DIR, default /var/lib/thermionic), or to "
	"a remote one over\nHTTPS with --address. Remote mode uses a client "
	"certificate kept in\n$XDG_CONFIG_HOME/thermionic (default "
	"~/.config/thermionic) and pins each\nserver's certificate "
	"fingerprint on first contact.\n\n"
	"--address may list several members of a cluster, comma separated\n"
	"(\"a:8443,b:8443\"): they are tried in order, and the command runs "
	"against\nthe first one that can be reached; one that refuses the "
	"connection or\ndoes not answer in time is skipped, one that answers "
	"with an error is not.\nEach address keeps its own pinned "
	"fingerprint.",
    .children = root_children,
};
