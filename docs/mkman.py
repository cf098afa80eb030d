#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Render one man page with go-md2man.

  mkman.py GO_MD2MAN IN.md OUT                 a page of docs/ as it is
  mkman.py GO_MD2MAN README.md OUT --extract NAME --header '% ...'
                                               a page kept in a README

--extract takes the README's section "## NAME(N)" up to the next "## "
heading (code fences skipped), lifts its "### X" headings to "# X" and
puts the header line first: bench/README.md stays the one source of
xgw-pktgen(8) and xgw-bench(8).  Its tables become definition lists
(first cell the term, the others "header: cell"): tbl cannot fit wide
tables into a terminal's width without warnings.
"""
import re
import subprocess
import sys


def cells(line):
    return [c.strip().replace('\\|', '|')
            for c in re.split(r'(?<!\\)\|', line.strip())[1:-1]]


def untable(lines):
    out, head = [], None
    for line in lines:
        if not line.startswith('|'):
            head = None
            out.append(line)
            continue
        row = cells(line)
        if head is None:
            head = row
            continue
        if not line.strip('|-: '):
            continue
        if len(row) == 2:
            body = row[1]
        else:
            body = '; '.join('%s: %s' % (h, c) for h, c in zip(head[1:], row[1:]))
        out += [row[0] or '(none)', ':   ' + body, '']
    return out


def extract(text, name, header):
    out, inside, fence = [], False, False
    for line in text.splitlines():
        if line.startswith('```'):
            fence = not fence
        if not fence and line.startswith('## '):
            if inside:
                break
            inside = line[3:].startswith(name + '(')
            continue
        if not inside:
            continue
        if not fence and line.startswith('###'):
            line = line[2:]
        out.append(line)
    if not out:
        raise SystemExit('mkman: no section "## %s(N)"' % name)
    return header + '\n\n' + '\n'.join(untable(out)).strip('\n') + '\n'


def source(path, argv):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    if '--extract' in argv:
        return extract(text, argv[argv.index('--extract') + 1],
                       argv[argv.index('--header') + 1])
    return text


def render(go_md2man, md):
    r = subprocess.run([go_md2man], input=md.encode(), capture_output=True, check=False)
    if r.returncode:
        raise SystemExit('mkman: go-md2man failed: ' + r.stderr.decode())
    return r.stdout


def main(argv):
    if len(argv) < 4:
        raise SystemExit(__doc__)
    page = render(argv[1], source(argv[2], argv[4:]))
    with open(argv[3], 'wb') as f:
        f.write(page)


if __name__ == '__main__':
    main(sys.argv)
