/* Fixture for tests/check_lint_locals.sh: nothing here may be reported (read by the lint, never compiled). */
static int good(aio_task *t, void *p)
{
    struct fr *f = (struct fr *)p;
    int rc;
    AIO_BEGIN(t, f);
    for (f->i = 0; f->i < 3; f->i++) {
        AIO_SLEEP(rc, AIO_MS(1));
        if (rc < 0)
            AIO_RETURN(rc);
    }
    while (rc == 0)
        AIO_SLEEP(rc, AIO_MS(1));
    rc = 5;
    f->n = rc;
    AIO_CHECKPOINT(rc);
    AIO_END(rc);
}
static int also_good(aio_task *t, void *p)
{
    struct fr *f = (struct fr *)p;
    aio_loop *loop = aio_task_loop(t); /* re-initialised at every resume */
    int rc, i;
    AIO_BEGIN(t, f);
    for (i = 0; i < 3; i++)
        f->v[i] = ++f->n;              /* no await in this loop */
    AIO_SLEEP(rc, AIO_MS(1));
    for (i = 0; i < 3; i++)            /* set again after the await */
        printf("%d %lld\n", f->v[i], (long long)aio_now(loop));
    AIO_END(rc);
}
