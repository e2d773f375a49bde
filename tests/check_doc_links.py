#!/usr/bin/env python3
"""Checks the project's Markdown pages: every relative link names a file
that exists, every #anchor names a heading of the page it points into, and
every aio_/AIO_ name written in backticks in README.md and docs/*.md is a
public name of a header (tests/check_api_docs.sh --list), a make or test
variable, or a file.  Exit status 1 with the list of problems otherwise.

    python3 tests/check_doc_links.py
"""
import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(root)


def anchor(h):
    a = h.strip().lower()
    a = re.sub(r'[^\w\- ]', '', a)
    return a.replace(' ', '-')


def outside_code(text):
    """Lines of `text` outside fenced code blocks, with their numbers."""
    inc = False
    for n, l in enumerate(text.split('\n'), 1):
        if l.startswith('```'):
            inc = not inc
            continue
        if not inc:
            yield n, l


def anchors_of(path):
    out = set()
    for _, l in outside_code(open(path).read()):
        m = re.match(r'#{1,6} (.*)', l)
        if m:
            out.add(anchor(m.group(1)))
    return out


pages = ['README.md', 'CHANGELOG.md'] + sorted('docs/' + f for f in os.listdir('docs') if f.endswith('.md'))
pages += [p for p in ('examples/README.md', 'tests/README.md', 'bench/RESULTS.md') if os.path.exists(p)]
problems = []
cache = {}
for page in pages:
    base = os.path.dirname(page)
    for n, l in outside_code(open(page).read()):
        for m in re.finditer(r'\]\(([^)\s]+)\)', l):
            target = m.group(1)
            if re.match(r'[a-z]+:', target):
                continue  # http:, https:, mailto:
            path, _, frag = target.partition('#')
            dest = os.path.normpath(os.path.join(base, path)) if path else page
            if not os.path.exists(dest):
                problems.append('%s:%d: link to a missing file: %s' % (page, n, target))
                continue
            if frag and dest.endswith('.md'):
                if dest not in cache:
                    cache[dest] = anchors_of(dest)
                if frag not in cache[dest]:
                    problems.append('%s:%d: no heading for #%s in %s' % (page, n, frag, dest))

# Names in backticks on the user-facing pages.
names = set(subprocess.run(['sh', 'tests/check_api_docs.sh', '--list'], capture_output=True, text=True).stdout.split())
allowed = {'AIO_TEST_SEED', 'AIO_TEST_SEEDS', 'AIO_TEST_ONLY', 'AIO_TEST_TIMEOUT'}
# Names docs/API.md documents (configuration macros a header only tests).
for _, l in outside_code(open('docs/API.md').read()):
    for code in re.findall(r'`([^`]+)`', l):
        allowed.update(re.findall(r'\b((?:aio|AIO)_[A-Za-z0-9_]*[A-Za-z0-9])\b', code))
for page in ['README.md'] + sorted('docs/' + f for f in os.listdir('docs') if f.endswith('.md') and f != 'API.md'):
    for n, l in outside_code(open(page).read()):
        for code in re.findall(r'`([^`]+)`', l):
            for name in re.findall(r'\b((?:aio|AIO)_[A-Za-z0-9_]*[A-Za-z0-9])\b', code):
                if name in names or name in allowed or name.startswith(('aio__', 'AIO__')):
                    continue
                if re.search(re.escape(name) + r'\.(h|c|pc|json|txt|md)\b', code):
                    continue  # a file name
                if name.startswith(('AIO_SYS_', 'AIO_BACKEND_')) or name.endswith('_H'):
                    continue  # hook and backend families, include guards
                problems.append('%s:%d: `%s` is not a public name of any header' % (page, n, name))

for p in problems:
    print(p)
if problems:
    print('check_doc_links: %d problem(s)' % len(problems))
    sys.exit(1)
print('check_doc_links: %d pages, every link and name resolves' % len(pages))
