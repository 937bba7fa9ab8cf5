#!/usr/bin/env python3
# kshare-dump --file against simulated [kshare] areas: every field decoded
# from its own offset (all values distinct), a credentials record left odd
# (being rewritten), an older kernel's shorter header, and areas it must
# refuse (magic, ABI version, a process page outside the area, a short file).
#   test-kshare-dump.py PATH-TO-KSHARE-DUMP
import os
import re
import struct
import subprocess
import sys
import tempfile

MAGIC, PAGE = 0x5248534B, 4096
UTS_LEN = 65
UTS_SIZE = 416  # sizeof(struct kshare_uts): 24 + 6 * 65, padded to 8
PROC = dict(valid=0x7f, pid=4242, mm_serial=987654321012, ppid=4241, pgid=4240,
            sid=4239, cred_seq=8, uid=1001, euid=1002, suid=1003, fsuid=1004,
            gid=2001, egid=2002, sgid=2003, fsgid=2004)
NAMES = ['Linux', 'host-a', '6.12.117+', '#1 SMP', 'x86_64', 'nis.example']


def area(magic=MAGIC, abi=2, header_size=40, features=0x7f, proc_offset=PAGE,
         uts_offset=64, cred_seq=PROC['cred_seq'], map_size=2 * PAGE):
    buf = bytearray(2 * PAGE)
    struct.pack_into('<IIIIQIIII', buf, 0, magic, abi, header_size, map_size,
                     features, proc_offset, 64, uts_offset, UTS_SIZE)
    p = dict(PROC, cred_seq=cred_seq)
    if proc_offset + 64 <= len(buf):
        struct.pack_into('<IiQiiiI8I', buf, proc_offset, p['valid'], p['pid'],
                         p['mm_serial'], p['ppid'], p['pgid'], p['sid'], p['cred_seq'],
                         *(p[k] for k in ('uid', 'euid', 'suid', 'fsuid',
                                          'gid', 'egid', 'sgid', 'fsgid')))
    if uts_offset + UTS_SIZE > len(buf):
        return bytes(buf)
    struct.pack_into('<IIQII', buf, uts_offset, 6, 3, 77, 3, 0)
    for i, name in enumerate(NAMES):
        off = uts_offset + 24 + i * UTS_LEN
        buf[off:off + len(name)] = name.encode()
    return bytes(buf)


def dump(tool, image):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(image)
    try:
        r = subprocess.run([tool, '--file', f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    fields = {}
    for line in r.stdout.splitlines():
        m = re.match(r'^  (\S+)\s+("[^"]*"|\S+)(.*)$', line)
        if m:
            fields[m.group(1)] = (m.group(2), m.group(3))
    return r.returncode, r.stdout + r.stderr, fields


failures = 0


def check(name, cond, out):
    global failures
    print(('ok - ' if cond else 'not ok - ') + name)
    if not cond:
        failures += 1
        print(''.join('# ' + line + '\n' for line in out.splitlines()), end='')


def main(tool):
    rc, out, f = dump(tool, area())
    want = {k: str(v) for k, v in PROC.items() if k != 'valid'}
    want.update(magic='0x5248534b', abi_version='2', header_size='40', map_size='8192',
                features='0x7f', proc_offset='4096', proc_size='64', uts_offset='64',
                uts_size=str(UTS_SIZE), valid='0x7f', seq='6', uts_valid='0x3',
                generation='77', nr_cpus='3')
    want.update(zip(['sysname', 'nodename', 'release', 'version', 'machine', 'domainname'],
                    ['"%s"' % n for n in NAMES]))
    wrong = {k: (f.get(k, ('MISSING',))[0], v) for k, v in want.items()
             if f.get(k, ('MISSING',))[0] != v}
    check('every field of a full area decoded from its own offset %s' % (wrong or ''),
          rc == 0 and not wrong, out)
    check('valid bits named', 'pid ppid pgid sid creds tid_cache uts' in out, out)

    rc, out, f = dump(tool, area(cred_seq=9))
    check('an odd cred_seq: the ids are not vouched for',
          rc == 0 and 'kept changing' in out and 'not-valid' in f['uid'][1], out)

    rc, out, f = dump(tool, area(header_size=32, features=0x1f, uts_offset=0x5a5a))
    check('an older kernel: fields past header_size read as absent',
          rc == 0 and f['uts_offset'][0] == '0' and 'uts record: none' in out, out)

    rc, out, _ = dump(tool, area(magic=0x12345678))
    check('bad magic refused', rc == 1 and 'BAD MAGIC' in out and 'pid ' not in out, out)
    rc, out, _ = dump(tool, area(abi=1))
    check('another ABI version (the auxiliary vector\'s, 1) refused', rc == 1 and 'NOT the version' in out, out)
    rc, out, _ = dump(tool, area(proc_offset=3 * PAGE))
    check('a process page outside the area refused', rc == 1 and 'outside' in out, out)
    rc, out, _ = dump(tool, area()[:20])
    check('a short file is an error', rc == 2 and 'short read' in out, out)

    print('%d passed, %d failed, 0 skipped' % (7 - failures, failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
