/* therm: the thermionic admin CLI. Everything is in the command files;
 * see cli.h. */
#include <stdio.h>

#include "cmd/therm/cli.h"

int main(int argc, char **argv)
{
	return therm_run(argc, argv, stdout, stderr);
}
