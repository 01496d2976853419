/* Feeds every file of the directories given on the command line (default:
 * tests/fuzz/regressions and tests/fuzz/corpus) through the fuzz harness's
 * LLVMFuzzerTestOneInput, without libFuzzer, in this process (a fork per
 * input costs ~50 ms under ASan: too slow for a thousand-input corpus).  A
 * crash or sanitizer report (the build uses -fno-sanitize-recover) ends the
 * run, naming the input; a leak is reported by LeakSanitizer at exit (exit
 * status 23).  With -fork, each input runs in a child of its own and a
 * failing input does not stop the others.  Ends with "N passed, M failed". */
#include <sanitizer/common_interface_defs.h>
#include <dirent.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool use_fork;
static const char *current;

static void on_death(void)
{
    fprintf(stderr, "FAIL %s (crashed; the report is above)\n", current ? current : "?");
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, unsigned *passed, unsigned *failed)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "regress: cannot open %s (skipped)\n", dir);
        return 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof(*names));
            if (!names)
                abort();
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "FAIL %s: cannot open\n", path);
            (*failed)++;
            free(names[i]);
            continue;
        }
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
        if (!buf || (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)) {
            fprintf(stderr, "FAIL %s: cannot read\n", path);
            (*failed)++;
        } else {
            current = path;
            if (!use_fork) {
                LLVMFuzzerTestOneInput(buf, (size_t)len);
                (*passed)++;
                free(buf);
                fclose(f);
                free(names[i]);
                continue;
            }
            fflush(NULL);
            pid_t pid = fork();
            if (pid == 0) {
                LLVMFuzzerTestOneInput(buf, (size_t)len);
                exit(0); /* not _exit: LeakSanitizer checks at exit */
            }
            int st = 0;
            if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "FAIL %s (%s %d)\n", path,
                        pid < 0 ? "fork failed" : WIFSIGNALED(st) ? "signal" : "exit status",
                        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                (*failed)++;
            } else {
                (*passed)++;
            }
        }
        free(buf);
        fclose(f);
        free(names[i]);
    }
    free(names);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned passed = 0, failed = 0;
    __sanitizer_set_death_callback(on_death);
    if (argc > 1 && strcmp(argv[1], "-fork") == 0) {
        use_fork = true;
        argv++;
        argc--;
    }
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            run_dir(argv[i], &passed, &failed);
    } else {
        run_dir("tests/fuzz/regressions", &passed, &failed);
        run_dir("tests/fuzz/corpus", &passed, &failed);
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed != 0;
}
