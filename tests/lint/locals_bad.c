/* Fixture for tests/check_lint_locals.sh: each line with the comment below must be reported (read by the lint, never compiled). */
static int co(aio_task *t, void *p)
{
    struct fr *f = (struct fr *)p;
    int rc, i, n = 0, ok;
    AIO_BEGIN(t, f);
    n = 42;
    AIO_SLEEP(rc, AIO_MS(1));
    printf("%d\n", n);              /* finding: n */
    for (i = 0; i < 3; i++) {       /* finding: i (the header reads it after the await) */
        AIO_SLEEP(rc, AIO_MS(1));
        if (rc < 0)
            AIO_RETURN(rc);
    }
    ok = 1;
    AIO_YIELD();
    f->n = ok;                      /* finding: ok */
    AIO_END(0);
}
