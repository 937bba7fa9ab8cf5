# Each line: an id as Python's os module gets it (libc, or the kshare shim
# under LD_PRELOAD), then the same id as /proc/self says it, for this very
# process: equal on every line, whatever the pid of the run.
import os

stat = open('/proc/self/stat').read()
fields = stat[stat.rindex(')') + 2:].split()  # state ppid pgrp session ...
status = dict(line.split(':', 1) for line in open('/proc/self/status'))
uids, gids = status['Uid'].split(), status['Gid'].split()


def ask(f, *args):
    try:
        r = f(*args)
        return ','.join(map(str, r)) if isinstance(r, tuple) else str(r)
    except OSError as e:
        return 'errno' + str(e.errno)


print('pid', ask(os.getpid), stat.split()[0])
print('ppid', ask(os.getppid), fields[1])
print('pgrp', ask(os.getpgrp), fields[2])
print('sid', ask(os.getsid, 0), fields[3])
print('uid', ask(os.getuid), uids[0])
print('euid', ask(os.geteuid), uids[1])
print('gid', ask(os.getgid), gids[0])
print('egid', ask(os.getegid), gids[1])
print('resuid', ask(os.getresuid), ','.join(uids[:3]))
print('resgid', ask(os.getresgid), ','.join(gids[:3]))
