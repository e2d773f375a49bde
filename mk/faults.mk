# mk/faults.mk - tests/test_faults_poll.c is tests/test_faults.c on the poll
# backend (it includes the file), so it is rebuilt when that file changes.

$(BUILD)/tests/test_faults_poll: tests/test_faults.c
