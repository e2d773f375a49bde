"""Runs gcovr, merging a function that sits at different lines in different
programs (aio.h defines some functions once per reactor backend, under
mutually exclusive #if branches, and the test programs select different
backends).  Arguments are gcovr's."""
import sys

import gcovr.merging
from gcovr.__main__ import main

gcovr.merging.DEFAULT_MERGE_OPTIONS.ignore_function_lineno = True
sys.exit(main(sys.argv[1:]))
