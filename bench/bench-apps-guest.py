"""What an application gains from kshare: the guest side of scripts/bench-apps.

Runs inside the VM on the kshare kernel, as `python3 -S -I` (Debian's
python3, bundled by scripts/bench-apps). Every sample is a whole program
run, timed from inside it; the plain and the shim run of a workload
alternate within a round, the order swapped from round to round:

- getpid, cpu_count, logging: python3 running a loop of os.getpid(),
  os.cpu_count(), or logging.Logger.info() with a "%(process)d" format to
  /dev/null, without and with LD_PRELOAD=libkshare-preload.so. Each run
  repeats its loop in chunks of 1000 until it has run SECONDS (interpreter
  start-up excluded), and prints its ns per iteration.
- ps: procps `ps -e -o pid,args` while 1000 processes titled through
  kshare (the title page) are alive, and while 1000 with the same titles as
  their argv are (kshare-apps-titles; one group at a time, started afresh
  each round, the order swapped every round: ps -q, which would read only
  a list of pids, takes at most 255), each without and with the shim, run
  back to back until SECONDS have passed; ms per ps run, each output
  checked.

Prints one line per sample, "APPS " and a JSON object; nothing is asserted.

  python3 -S -I bench-apps-guest.py [--rounds N] [--seconds S] [--procs N]
  python3 -S -I bench-apps-guest.py --work NAME SECONDS     (one sample)
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHIM = os.path.join(HERE, 'libkshare-preload.so')
TITLES = os.path.join(HERE, 'kshare-apps-titles')
PS = '/usr/bin/ps'
CHUNK = 1000


def work(name, seconds):
    """One sample: the loop of NAME for at least SECONDS, in this process."""
    if name == 'getpid':
        def chunk():
            for _ in range(CHUNK):
                os.getpid()
        value = os.getpid()
        with open('/proc/self/stat') as f:
            ok = value == int(f.read().split()[0])
    elif name == 'cpu_count':
        def chunk():
            for _ in range(CHUNK):
                os.cpu_count()
        value = os.cpu_count()
        with open('/sys/devices/system/cpu/online') as f:
            online = f.read().strip()
        # "0-1" or "0": the count of a single range.
        lo, _, hi = online.partition('-')
        ok = value == int(hi or lo) - int(lo) + 1
    elif name == 'logging':
        import io
        import logging
        fmt = '%(process)d %(levelname)s %(name)s: %(message)s'
        check = io.StringIO()
        log = logging.getLogger('app')
        log.propagate = False
        log.setLevel(logging.INFO)
        handler = logging.StreamHandler(check)
        handler.setFormatter(logging.Formatter(fmt))
        log.addHandler(handler)
        log.info('request %d done', 0)
        value = check.getvalue().strip()
        ok = value == '%d INFO app: request 0 done' % os.getpid()
        log.removeHandler(handler)
        handler = logging.StreamHandler(open(os.devnull, 'w'))
        handler.setFormatter(logging.Formatter(fmt))
        log.addHandler(handler)

        def chunk():
            for i in range(CHUNK):
                log.info('request %d done', i)
    else:
        raise SystemExit('unknown workload ' + name)
    with open('/proc/self/maps') as f:
        shim = 'libkshare-preload.so' in f.read()
    chunk()  # warm up
    n = 0
    t0 = time.perf_counter()
    while True:
        chunk()
        n += CHUNK
        t = time.perf_counter() - t0
        if t >= seconds:
            break
    print(json.dumps({'iters': n, 'seconds': t, 'value': value, 'ok': ok, 'shim': shim}))


def emit(**kw):
    print('APPS ' + json.dumps(kw), flush=True)


def env(shim):
    e = {'PATH': '/kshare:/usr/bin:/bin', 'HOME': '/root'}
    if shim:
        e['LD_PRELOAD'] = SHIM
    return e


def run_work(name, shim, seconds, rnd):
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, '-S', '-I', os.path.abspath(__file__), '--work',
                        name, str(seconds)], env=env(shim), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        emit(kind='error', bench=name, shim=shim, round=rnd, stderr=p.stderr[-500:])
        return
    r = json.loads(p.stdout.strip().splitlines()[-1])
    emit(kind='sample', bench=name, variant='shim' if shim else 'plain', round=rnd,
         ns_per_op=r['seconds'] / r['iters'] * 1e9, iters=r['iters'], loop_s=r['seconds'],
         program_s=wall, ok=r['ok'], shim_loaded=r['shim'], value=r['value'])


def ps_once(shim):
    t0 = time.perf_counter()
    p = subprocess.run([PS, '-e', '-o', 'pid,args'], env=env(shim),
                       capture_output=True, text=True)
    return time.perf_counter() - t0, p


def titled(out):
    """Lines of ps output showing one of kshare-apps-titles' titles whole."""
    n = 0
    for line in out.splitlines()[1:]:
        args = line.split(None, 1)[1] if len(line.split(None, 1)) == 2 else ''
        if (args.startswith('app worker ') and len(args) == 64
                and args.endswith('....') and ': idle, accepting connections' in args):
            n += 1
    return n


def run_ps(titles, shim, seconds, rnd, nprocs):
    times, good, runs = [], True, 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or runs < 3:
        t, p = ps_once(shim)
        times.append(t)
        runs += 1
        if p.returncode != 0 or titled(p.stdout) != nprocs:
            good = False
    times.sort()
    med = times[len(times) // 2]
    emit(kind='sample', bench='ps_' + titles, variant='shim' if shim else 'plain', round=rnd,
         ms_per_run=med * 1e3, us_per_process=med * 1e6 / nprocs, runs=runs, ok=good)


def main():
    args = sys.argv[1:]
    if args and args[0] == '--work':
        work(args[1], float(args[2]))
        return
    rounds, seconds, procs = 5, 2.0, 1000
    while args:
        opt, val = args[0], args[1]
        args = args[2:]
        if opt == '--rounds':
            rounds = int(val)
        elif opt == '--seconds':
            seconds = float(val)
        elif opt == '--procs':
            procs = int(val)
        else:
            raise SystemExit('unknown option ' + opt)
    with open('/proc/cpuinfo') as f:
        cpus = sum(1 for line in f if line.startswith('processor'))
    emit(kind='info', kernel=os.uname().release, cpus=cpus, rounds=rounds, seconds=seconds,
         procs=procs, python=sys.version.split()[0],
         ps=subprocess.run([PS, '--version'], capture_output=True, text=True).stdout.strip())

    for rnd in range(rounds):
        for name in ('getpid', 'cpu_count', 'logging'):
            for shim in ((False, True) if rnd % 2 == 0 else (True, False)):
                run_work(name, shim, seconds, rnd)

    tmp = '/tmp/apps-titles'
    os.makedirs(tmp, exist_ok=True)
    for rnd in range(rounds):
        for titles in (('kshare', 'argv') if rnd % 2 == 0 else ('argv', 'kshare')):
            t0 = time.perf_counter()
            holder = subprocess.Popen([TITLES, str(procs), tmp, titles], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
            lines = []
            for line in holder.stdout:
                lines.append(line.strip())
                if line.strip() == 'ready':
                    break
            emit(kind='titles', round=rnd, report=lines[:-1],
                 start_s=time.perf_counter() - t0)
            for shim in ((False, True) if rnd % 2 == 0 else (True, False)):
                run_ps(titles, shim, seconds, rnd, procs)
            holder.stdin.close()
            holder.wait()
    emit(kind='done')


if __name__ == '__main__':
    main()
