"""Instructions per job that Redis spends in Quell's hot transitions, counted
with callgrind (deterministic: the same on a busy machine), for one or more
copies of Sources/Quell/Scripts. Used to decide Lua changes by counts, not by
noisy microseconds.

  cost.py PORT PID DIR [DIR ...]   (redis-server on PORT runs under callgrind as PID)

Phases, per job: enqueue (1 job per call), enq4 (4 per call), start (8 per
call), finish (8 per call; with the worker's copy of each job where finish.lua
takes one). The library is assembled like Store/Scripts.swift.
QUELL_COST_BATCH=N sets start's and finish's jobs per call (default 8): two
runs at different N split a call's fixed cost from its cost per job
(cost(N) = fixed / N + per_job).
QUELL_COST_COMBINED=1 adds fin+start: finish_start.lua, which finishes N jobs
and starts N in one call (for a copy of the scripts from before it, a
prototype of it in this bench's library only).
QUELL_COST_KEEP=DIR keeps each phase's callgrind dump as DIR/<copy>-<phase>.out,
for `callgrind_annotate --inclusive=yes --threshold=100 FILE`: where in
Redis (command, reply conversion, Lua VM) the instructions go.
"""
import glob, hashlib, os, subprocess, sys, time
import redis

port, pid, dirs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
r = redis.Redis(port=port)
BODIES = ['enqueue', 'start', 'finish', 'progress', 'heartbeat', 'cancel', 'confirm_cancel',
          'retry', 'reap', 'cleanup', 'forward', 'stats', 'expire']
COMBINED = os.environ.get('QUELL_COST_COMBINED') == '1'
K = int(os.environ.get('QUELL_COST_BATCH', '8'))


def load_library(d):
    lib = open(os.path.join(d, 'lib.lua')).read()
    version = 'quellcost_' + hashlib.sha1((lib + d).encode()).hexdigest()[:12]
    src = f"#!lua name={version}\n" + lib
    bodies = BODIES + (['finish_start'] if os.path.exists(os.path.join(d, 'finish_start.lua')) else [])
    for n in bodies:
        body = open(os.path.join(d, n + '.lua')).read()
        src += (f"\nlocal function body_{n}(KEYS, ARGV)\n{body}\nend\n"
                f"redis.register_function('{version}_{n}', function(keys, args)\n"
                f"  begin(keys, args)\n  local result = body_{n}(keys, args)\n  flush()\n  return result\nend)\n")
    # Before finish_start.lua, a prototype of it under its name, for
    # measuring only (ARGV: base, now, cap, n finishing, 8 per finishing job,
    # start's ARGV 4…).
    if 'finish_start' not in bodies: src += (f"\nredis.register_function('{version}_finish_start', function(keys, args)\n"
            f"  begin(keys, args)\n  local n = tonumber(args[4])\n"
            f"  local fa, sa = {{args[1], args[2], args[3]}}, {{args[1], args[2], args[3]}}\n"
            f"  for i = 5, 4 + 8 * n do fa[#fa + 1] = args[i] end\n"
            f"  for i = 5 + 8 * n, #args do sa[#sa + 1] = args[i] end\n"
            f"  local a = body_finish(keys, fa)\n  local b = body_start(keys, sa)\n  flush()\n  return {{a, b}}\nend)\n")
    r.function_load(src, replace=True)
    return version


KEEP = os.environ.get('QUELL_COST_KEEP')
LABEL = ['']


def instructions(run, phase=''):
    """Instructions Redis ran during run() (zero, run, dump, read the dump's total)."""
    before = set(glob.glob(f'/tmp/quell-cost.{pid}.out*'))
    subprocess.check_call(['callgrind_control', '-z', pid], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run()
    subprocess.check_call(['callgrind_control', '-d', pid], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    new = sorted(set(glob.glob(f'/tmp/quell-cost.{pid}.out*')) - before, key=os.path.getmtime)[-1]
    total = None
    for line in open(new):
        if line.startswith(('totals:', 'summary:')):
            total = int(line.split()[1])
    if KEEP and phase and LABEL[0]:
        os.makedirs(KEEP, exist_ok=True)
        os.replace(new, os.path.join(KEEP, f'{LABEL[0]}-{phase}.out'))
    else:
        os.remove(new)
    return total


def finished_event(packed, now):
    """The worker's copy as finish.lua takes it (FinishedEvent.swift): version, head, tail,
    and where finish.lua takes 10 arguments per job, tenant and key."""
    f = packed.split(b'\x1f')
    # Positions (Job.Position): status, version, heartbeat_at, completed_at, error.
    st, ve, hb, co, er = (9, 12, 14, 15, 20) if PACKED_SPEC_FIRST else (5, 9, 12, 13, 18)
    version, tenant, key = (f[ve], f[7], f[3]) if PACKED_SPEC_FIRST else (f[ve], f[3], f[4])
    f[st], f[ve], f[co], f[er] = b'completed', str(int(version) + 1).encode(), now.encode(), b''
    copy = [version, b'\x1f'.join(f[:hb]) + b'\x1f', b'\x1f' + b'\x1f'.join(f[hb + 1:])]
    return copy + [tenant, key] if COPY_HAS_TENANT else copy


def phases(version, base, n, with_copy):
    call = lambda p, name, args: p.fcall(f'{version}_{name}', 1, base + ':shard', *args)
    now = str(int(time.time() * 1000))
    p = r.pipeline(transaction=False)
    res = {}

    def enqueue():
        for i in range(n):
            call(p, 'enqueue', [base, now, '10000', '30000', f'{i:08d}x', 'demo.noop', 'default', 't1', '', '{}', '3', '', ''])
            if i % 100 == 99: p.execute()
        p.execute()
    res['enqueue'] = instructions(enqueue, 'enqueue') / n

    def enq4():
        for i in range(0, n, 4):
            a = [base, now, '10000', '30000']
            for k in range(4): a += [f'{i + k:08d}g', 'demo.noop', 'default', 't1', '', '{}', '3', '', '']
            call(p, 'enqueue', a)
        p.execute()
    res['enq4'] = instructions(enq4, 'enq4') / n

    out = []
    def start():
        for i in range(-(-2 * n // K)):  # every job, the last call taking the rest
            call(p, 'start', [base, now, '10000', 'w1', f'L{i}:', str(K), '30000', '30', '0', '30', '3600', 'default'])
        out.extend(p.execute())
    res['start'] = instructions(start, 'start') / (2 * n)
    def records(reply):  # nested ({'job', …} per id: older scripts) or flat ('job', …, 'skip', …)
        if reply and isinstance(reply[0], list):
            yield from reply
            return
        i = 0
        while i < len(reply):
            n = 5 if reply[i] == b'job' else 3
            yield reply[i:i + n]
            i += n
    def started(reply):  # (id, lease, packed) per job a start reply started
        return [(e[2].split(b'\x1f')[0].decode(), e[1].decode(), e[2]) for e in records(reply) if e[0] == b'job']
    leases = [job for b in out for job in started(b)]
    assert len(leases) == 2 * n, f'started {len(leases)} of {2 * n}'

    done = []
    def finish():
        for i in range(0, 2 * n, K):
            a = [base, now, '10000']
            for id, lease, packed in leases[i:i + K]:
                a += [id, lease, 'completed', NO_ERROR if with_copy else '', '']
                if with_copy: a += finished_event(packed, now)
            call(p, 'finish', a)
        done.extend(p.execute())
    res['finish'] = instructions(finish, 'finish') / (2 * n)
    assert all(x == b'ok' for o in done for x in o), 'a finish was refused'

    if COMBINED:
        # finish K and start K in one call, one call after another (each
        # finishes what the one before started): instructions per job started+finished.
        for i in range(n):
            call(p, 'enqueue', [base, now, '10000', '30000', f'{i:08d}c', 'demo.noop', 'default', 't1', '', '{}', '3', '', ''])
        p.execute()
        def startargs(i):
            return ['w2', f'M{i}:', str(K), '30000', '30', '0', '30', '3600', 'default']
        running = started(r.fcall(f'{version}_start', 1, base + ':shard', base, now, '10000', *startargs(0)))
        rounds = n // K - 1
        def combined():
            nonlocal running
            for i in range(1, rounds + 1):
                a = [base, now, '10000', str(len(running))]
                for id, lease, packed in running:
                    a += [id, lease, 'completed', NO_ERROR, ''] + finished_event(packed, now)
                fin, st = r.fcall(f'{version}_finish_start', 1, base + ':shard', *a, *startargs(i))
                assert all(x == b'ok' for x in fin), 'a combined finish was refused'
                running = started(st)
        res['fin+start'] = instructions(combined, 'fin+start') / (rounds * K)
    return res


r.flushall()
for j, d in enumerate(dirs):
    version = load_library(d)
    # finish.lua taking the worker's copy of the job (8 or 10 arguments per job), or not (5).
    finish_lua = open(os.path.join(d, 'finish.lua')).read()
    with_copy = '8 per job' in finish_lua or '10 per job' in finish_lua
    COPY_HAS_TENANT = '10 per job' in finish_lua
    # A packed job: id, the spec's 8 values, then what changes (lib.lua with a spec field).
    PACKED_SPEC_FIRST = 'SPEC_FIELDS' in open(os.path.join(d, 'lib.lua')).read()
    # The error argument of a job that had none and has none (as the worker
    # sends it): the separator alone where finish.lua takes that as "write none".
    NO_ERROR = '\x1f' if 'the separator alone' in finish_lua else ''
    phases(version, '{warm%d}' % j, 200, with_copy)
    LABEL[0] = str(j)
    res = phases(version, '{cost%d}' % j, 1000, with_copy)
    LABEL[0] = ''

    print(f"{d:50s} " + "  ".join(f"{k} {v / 1000:6.1f}k" for k, v in res.items()))
