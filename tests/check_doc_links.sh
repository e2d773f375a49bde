#!/bin/sh
# Checks the Markdown pages: links resolve to files and headings, and every
# aio_/AIO_ name the user-facing pages write exists (tests/check_doc_links.py).
command -v python3 >/dev/null 2>&1 || { echo "check_doc_links: python3 is needed"; exit 1; }
exec python3 "$(dirname "$0")/check_doc_links.py"
