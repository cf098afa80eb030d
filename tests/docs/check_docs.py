#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Keep docs/ true to the code (suite unit).

  check_docs.py --source DIR --xgwctl PATH --xgwd PATH [--go-md2man PATH]

- every key the config loader accepts (the keys[] arrays of ctl/config*.c)
  is documented in docs/xgw.json.5.md and every documented key exists; a
  key's "live" word agrees with restart_keys in ctl/proto_config.c;
- every command of `xgwctl --help` has a "## noun verb" entry under
  COMMANDS in docs/xgwctl.8.md, and every entry there is a command; the
  global options of --help are under OPTIONS;
- every option xgwd/main.c gives getopt_long is under OPTIONS in docs/xgwd.8.md and
  every option there exists; the signals of `xgwd --help` are under
  SIGNALS;
- every command of the table in ctl/proto_cmds.c (and "batch") is in the
  PROTOCOL section with its kind, and nothing else is;
- docs/xgwctl.bash completes every noun, verb and option of --help;
- with go-md2man, every man page (docs/*.md and the sections of
  bench/README.md that docs/meson.build extracts) renders with
  `groff -k -t -man -Tutf8 -ww -z` without a warning.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

# Commands and options a branch about to be merged adds, documented before
# they exist in this build; the test fails once a pending name exists, so
# that it is not forgotten.  (The kernel datapath's `service move`,
# `service.move` and `--force-attach` have landed.)
PENDING = set()

# The object each loader function reads, as docs/xgw.json.5.md names its
# keys ("" is the top level).  A new keys[] array needs its line here.
PREFIX = {
    ('config.c', 'umem_from_json'): 'umem.',
    ('config.c', 'dpdk_from_json'): 'dpdk.',
    ('config.c', 'ct_from_json'): 'conntrack.',
    ('config.c', 'tunnel_from_json'): 'tunnel.',
    ('config.c', 'lb_from_json'): 'lb.',
    ('config.c', 'ctl_from_json'): 'ctl.',
    ('config.c', 'metrics_from_json'): 'metrics.',
    ('config.c', 'announce_from_json'): 'announce.',
    ('config.c', 'load_json'): '',
    ('config_lb.c', 'tunnel_from_json'): 'services[].backends[].tunnel.',
    ('config_lb.c', 'xgw_backend_from_json'): 'services[].backends[].',
    ('config_lb.c', 'xgw_service_from_json'): 'services[].',
    ('config_lb.c', 'check_from_json'): 'services[].check.',
    ('config_objects.c', 'queue_from_json'): 'ports[].queues[].',
    ('config_objects.c', 'cfg_port_from_json'): 'ports[].',
    ('config_objects.c', 'xgw_steer_from_json'): 'steer[].',
    ('config_objects.c', 'xgw_route_from_json'): 'routes[].',
    ('config_objects.c', 'cfg_neigh_from_json'): 'neighbours[].',
    ('config_objects.c', 'xgw_policy_from_json'): 'policies[].',
}
LOADER_FILES = ('config.c', 'config_lb.c', 'config_objects.c')
BASH_COMPLETION = '/usr/share/bash-completion/bash_completion'

errors = []


def fail(msg):
    errors.append(msg)


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def section(md, title):
    """Lines of the "# TITLE" section of a man page source."""
    out, inside, fence = [], False, False
    for line in md.splitlines():
        if line.startswith('```'):
            fence = not fence
        if not fence and line.startswith('# '):
            inside = line[2:].strip() == title
            continue
        if inside:
            out.append(line)
    if not out:
        fail('no "# %s" section' % title)
    return out


# ---- config keys -------------------------------------------------------

def loader_keys(src):
    keys = {}
    for name in LOADER_FILES:
        text = read(os.path.join(src, 'ctl', name))
        func = None
        for m in re.finditer(r'^(?:\w[^\n;]*?\b(\w+)\([^;{]*$)|'
                             r'static const char \*const keys\[\] = \{([^}]*)\}',
                             text, re.M):
            if m.group(1):
                func = m.group(1)
                continue
            where = (name, func)
            if where not in PREFIX:
                fail('ctl/%s: keys[] in %s(): add its prefix to PREFIX in %s'
                     % (name, func, __file__))
                continue
            for k in re.findall(r'"([^"]+)"', m.group(2)):
                keys[PREFIX[where] + k] = where
    return keys


def restart_keys(src):
    text = read(os.path.join(src, 'ctl', 'proto_config.c'))
    m = re.search(r'restart_keys\[\]\[2\] = \{(.*?)\};', text, re.S)
    if not m:
        fail('ctl/proto_config.c: restart_keys not found')
        return set()
    return {a + ('.' + b if b != 'NULL' else '')
            for a, b in re.findall(r'\{"(\w+)",\s*"?(\w+)"?\}', m.group(1))}


def check_config(src):
    md = read(os.path.join(src, 'docs', 'xgw.json.5.md')).splitlines()
    documented = {}
    for i, line in enumerate(md):
        m = re.fullmatch(r'`([a-z_][a-z_.\[\]]*)`', line)
        if m and i + 1 < len(md) and md[i + 1].startswith(':   '):
            live = re.search(r'; live: (yes|restart|partly)\.', md[i + 1])
            if m.group(1) in documented:
                fail('xgw.json.5.md: %s documented twice' % m.group(1))
            documented[m.group(1)] = live.group(1) if live else None
    loader = loader_keys(src)
    for k in sorted(set(loader) - set(documented)):
        fail('config key %s (ctl/%s, %s()) is not documented in docs/xgw.json.5.md'
             % ((k,) + loader[k]))
    for k in sorted(set(documented) - set(loader)):
        fail('docs/xgw.json.5.md documents %s, which the loader does not accept' % k)
    restart = restart_keys(src)

    def parts(k):  # k and its ancestors: services[].backends[].ip -> services, ...
        p = re.split(r'\[\]\.|\.', k)
        return {'.'.join(p[:i]) for i in range(1, len(p) + 1)}

    for k, live in documented.items():
        flat = k.replace('[]', '')
        want = 'restart' if parts(k) & restart else (
            'partly' if any(r.startswith(flat + '.') for r in restart) else 'yes')
        if live != want:
            fail('docs/xgw.json.5.md: %s says live: %s; restart_keys say %s' % (k, live, want))
    return len(loader)


# ---- xgwctl ------------------------------------------------------------

def help_commands(xgwctl):
    out = subprocess.run([xgwctl, '--help'], capture_output=True, text=True, check=True).stdout
    cmds, opts = {}, set()
    for line in out.splitlines():
        m = re.match(r'  xgwctl (\w+)(?: ([a-z]+)\b(?![:]))?(.*)$', line)
        if m:
            name = m.group(1) + (' ' + m.group(2) if m.group(2) else '')
            cmds[name] = set(re.findall(r'(--[a-z][a-z-]*)', m.group(3)))
        elif re.match(r'\s+-', line):
            opts |= set(re.findall(r'(?<![\w-])(--?[a-z][a-z-]*)', line))
    if not cmds:
        fail('xgwctl --help lists no command')
    return cmds, opts


def check_xgwctl(src, xgwctl):
    md = read(os.path.join(src, 'docs', 'xgwctl.8.md'))
    cmds, opts = help_commands(xgwctl)
    doc = {l[3:].strip() for l in section(md, 'COMMANDS') if l.startswith('## ')}
    for c in sorted(set(cmds) - doc):
        fail('xgwctl command "%s" is not documented under COMMANDS in docs/xgwctl.8.md' % c)
    for c in sorted(doc - set(cmds) - PENDING):
        fail('docs/xgwctl.8.md documents "%s", which xgwctl --help does not list' % c)
    options = '\n'.join(section(md, 'OPTIONS'))
    for o in sorted(opts):
        if '**%s**' % o not in options:
            fail('xgwctl option %s is not documented under OPTIONS in docs/xgwctl.8.md' % o)
    for c in sorted(PENDING & set(cmds)):
        fail('"%s" exists now: remove it from PENDING in %s' % (c, __file__))
    return cmds, opts


def check_protocol(src):
    md = read(os.path.join(src, 'docs', 'xgwctl.8.md'))
    table = read(os.path.join(src, 'ctl', 'proto_cmds.c'))
    table = table[table.index('xgw_ctl_cmds[] = {'):]
    kinds = {'CMD_READ': 'read', 'CMD_CONFIG': 'write', 'CMD_ACTION': 'action'}
    code = {n: kinds[k] for n, k in
            re.findall(r'\{"([a-z.]+)",\s*\w+,\s*(CMD_\w+)', table)}
    if 'batch' not in read(os.path.join(src, 'ctl', 'proto.c')):
        fail('ctl/proto.c no longer handles "batch"')
    code['batch'] = 'write'
    doc = dict(re.findall(r'^`([a-z.]+)` \((read|write|action)\)$',
                          '\n'.join(section(md, 'PROTOCOL')), re.M))
    for c in sorted(set(code) - set(doc)):
        fail('protocol command %s is not documented under PROTOCOL in docs/xgwctl.8.md' % c)
    for c in sorted(set(doc) - set(code) - PENDING):
        fail('docs/xgwctl.8.md documents protocol command %s, which ctl/proto_cmds.c lacks' % c)
    for c in sorted(set(doc) & set(code)):
        if doc[c] != code[c]:
            fail('docs/xgwctl.8.md: %s is %s, the table says %s' % (c, doc[c], code[c]))
    for c in sorted(PENDING & set(code)):
        fail('"%s" exists now: remove it from PENDING in %s' % (c, __file__))
    return len(code)


# ---- xgwd ---------------------------------------------------------------

def check_xgwd(src, xgwd):
    md = read(os.path.join(src, 'docs', 'xgwd.8.md'))
    out = subprocess.run([xgwd, '--help'], capture_output=True, text=True, check=True).stdout
    # The options xgwd/main.c gives getopt_long, long and short.
    main = read(os.path.join(src, 'xgwd', 'main.c'))
    opts = {'--' + o for o in re.findall(r'\{"([a-z-]+)",\s*\w+_argument,', main)}
    for short in re.findall(r'getopt_long\(argc, argv, "([^"]*)"', main):
        opts |= {'-' + ch for ch in short if ch.isalpha()}
    if not opts:
        fail('xgwd/main.c: no getopt_long options found')
    options = section(md, 'OPTIONS')
    doc = set()
    for line in options:
        doc |= set(re.findall(r'^\*\*(--?[a-z][a-z-]*)\*\*', line))
        doc |= set(re.findall(r'^\*\*-[a-z]\*\*, \*\*(--[a-z][a-z-]*)\*\*', line))
    for o in sorted(opts - doc):
        fail('xgwd option %s is not documented under OPTIONS in docs/xgwd.8.md' % o)
    for o in sorted(doc - opts - PENDING):
        fail('docs/xgwd.8.md documents %s, which xgwd --help does not list' % o)
    for o in sorted(PENDING & opts):
        fail('"%s" exists now: remove it from PENDING in %s' % (o, __file__))
    for sig in ('SIGTERM', 'SIGINT', 'SIGUSR1', 'SIGHUP'):
        if sig in out and '**%s**' % sig not in '\n'.join(section(md, 'SIGNALS')):
            fail('xgwd handles %s: not documented under SIGNALS in docs/xgwd.8.md' % sig)
    return len(opts)


# ---- completion --------------------------------------------------------

def complete(script, *words):
    """What the completion offers after `xgwctl WORDS...` (last word = cur)."""
    quoted = ' '.join("'%s'" % w for w in ('xgwctl',) + words)
    # bash-completion's own helpers where installed, else minimal ones.
    prog = '''
if [ -r %s ]; then source %s; else
_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
  cur=${words[cword]}; prev=${words[cword-1]}; }
_filedir() { :; }
fi
source '%s'
COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
_xgwctl; printf '%%s\\n' "${COMPREPLY[@]}"
''' % (BASH_COMPLETION, BASH_COMPLETION, script, quoted, len(words))
    r = subprocess.run(['bash', '-c', prog], capture_output=True, text=True, check=False)
    if r.returncode:
        fail('completion: bash failed: ' + r.stderr)
    return set(r.stdout.split())


def check_completion(src, cmds, opts):
    script = os.path.join(src, 'docs', 'xgwctl.bash')
    nouns = complete(script, '')
    globs = complete(script, '-')
    for o in sorted(opts):
        if o not in globs:
            fail('docs/xgwctl.bash does not complete the option %s' % o)
    for c, copts in sorted(cmds.items()):
        w = c.split()
        if w[0] not in nouns:
            fail('docs/xgwctl.bash does not complete the command "%s"' % w[0])
            continue
        if len(w) == 2 and w[1] not in complete(script, w[0], ''):
            fail('docs/xgwctl.bash does not complete "%s"' % c)
            continue
        offered = complete(script, *(w + ['--']))
        for o in sorted(copts - offered):
            fail('docs/xgwctl.bash does not complete "%s %s"' % (c, o))
    for n in sorted(nouns):
        verbs = complete(script, n, '')
        for c in sorted({n + ' ' + v for v in verbs} if verbs else {n}):
            if c not in cmds and c not in PENDING:
                fail('docs/xgwctl.bash completes "%s", which xgwctl --help does not list' % c)


# ---- rendering ---------------------------------------------------------

def pages(src):
    """(name, markdown) of every man page docs/meson.build makes."""
    sys.path.insert(0, os.path.join(src, 'docs'))
    import mkman  # pylint: disable=import-outside-toplevel
    build = read(os.path.join(src, 'docs', 'meson.build'))
    out = []
    for f in sorted(os.listdir(os.path.join(src, 'docs'))):
        if re.fullmatch(r'[\w.-]+\.[1-8]\.md', f):
            if "'%s'" % f[:-3] not in build:
                fail('docs/%s is not in docs/meson.build' % f)
            out.append((f[:-3], read(os.path.join(src, 'docs', f))))
    readme = read(os.path.join(src, 'bench', 'README.md'))
    for name in re.findall(r"'--extract', '([\w-]+)'", build):
        out.append((name, mkman.extract(readme, name, '% ' + name.upper() + ' 8')))
    for name, md in out:
        if not re.match(r'% [A-Z.-]+ [1-8]\b', md):
            fail('%s: the first line must be "%% NAME SECTION ..."' % name)
        for s in ('NAME', 'SYNOPSIS', 'DESCRIPTION'):
            if not re.search(r'^# %s$' % s, md, re.M):
                fail('%s: no "# %s" section' % (name, s))
    return mkman, out


def check_render(src, go_md2man):
    mkman, out = pages(src)
    if not go_md2man:
        print('go-md2man not found: man pages not rendered')
        return 0
    groff = shutil.which('groff')
    if not groff:
        print('groff not found: man pages not rendered')
        return 0
    for name, md in out:
        man = mkman.render(go_md2man, md)
        r = subprocess.run([groff, '-k', '-t', '-man', '-Tutf8', '-ww', '-z'], input=man,
                           capture_output=True, check=False)
        if r.returncode or r.stderr:
            fail('%s: groff: exit %d: %s' % (name, r.returncode, r.stderr.decode()[:2000]))
    return len(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--source', required=True)
    ap.add_argument('--xgwctl', required=True)
    ap.add_argument('--xgwd', required=True)
    ap.add_argument('--go-md2man', default='')
    a = ap.parse_args()
    n_keys = check_config(a.source)
    cmds, opts = check_xgwctl(a.source, a.xgwctl)
    n_proto = check_protocol(a.source)
    n_xgwd = check_xgwd(a.source, a.xgwd)
    check_completion(a.source, cmds, opts)
    n_pages = check_render(a.source, a.go_md2man)
    for e in errors:
        print('FAIL:', e)
    print('docs: %d config keys, %d xgwctl commands, %d protocol commands, %d xgwd options, '
          '%d pages rendered; %d problem(s)'
          % (n_keys, len(cmds), n_proto, n_xgwd, n_pages, len(errors)))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
