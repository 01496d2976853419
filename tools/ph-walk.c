/* ph-walk: the heap walk of a core without gdb, for profiling (perf, callgrind).
 *
 * usage: ph-walk CORE|pid:PID _PyRuntime=0x.. [PyType_Type=0x..] [_PySet_Dummy=0x..]
 *                [Py_Version=0x..] [interned=0x..] [dom] [REPEAT]
 *
 * dom: the graph and dominator tree too, after the walk (ph_graph_get), timed.
 *
 * pid:PID walks a live (stopped) process instead, through the reader's
 * process segments (PH_LIVE_READ=mem: through /proc/PID/mem only;
 * PH_LIVE_COPY_MB=N: copy at most N MiB of its segments whole).
 *
 * The symbol values are what `bin/probe-heap --core CORE --json info` finds
 * through gdb (tools/bench prints them); read-only file mappings the core
 * leaves out are read from the files its NT_FILE note names. */
#include "analyses/graph.h"
#include "heap/heap.h" /* the index's own numbers */
#include "memory/reader.h"
#include "probeheap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct files {
    ph_reader *r;
} files;

static ph_error *add_mapping(uint64_t start, uint64_t end, uint64_t off, const char *path,
                             bool is_exe, void *payload)
{
    files *f = payload;
    if (ph_reader_covers(f->r, start))
        return NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    return ph_reader_add_file(f->r, start, end - start, fd, off);
}

static void die(ph_error *err)
{
    fprintf(stderr, "ph-walk: %s\n", err->message);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ph-walk CORE _PyRuntime=0x.. [NAME=0x..]... [REPEAT]\n");
        return 2;
    }
    ph_symbols syms = {0};
    int repeat = 1;
    bool dom = false;
    for (int i = 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!strcmp(argv[i], "dom")) {
            dom = true;
            continue;
        }
        if (!eq) {
            repeat = atoi(argv[i]);
            continue;
        }
        uint64_t v = strtoull(eq + 1, NULL, 0);
        *eq = 0;
        if (!strcmp(argv[i], "_PyRuntime"))
            syms.py_runtime = v;
        else if (!strcmp(argv[i], "PyType_Type"))
            syms.type_type = v;
        else if (!strcmp(argv[i], "_PySet_Dummy"))
            syms.set_dummy = v;
        else if (!strcmp(argv[i], "Py_Version"))
            syms.py_version = v;
        else if (!strcmp(argv[i], "interned"))
            syms.interned = v;
    }
    for (int k = 0; k < repeat; k++) {
        ph_reader *r;
        ph_error *err = ph_reader_new(&r);
        files f = {r};
        if (!err && !strncmp(argv[1], "pid:", 4)) {
            const char *how = getenv("PH_LIVE_READ");
            err = ph_reader_open_process(r, atoi(argv[1] + 4),
                                         how && !strcmp(how, "mem") ? PH_LIVE_PROC_MEM
                                                                    : PH_LIVE_ANY);
            const char *mb = getenv("PH_LIVE_COPY_MB");
            if (!err && mb && *mb)
                ph_reader_set_copy_budget(r, strtoull(mb, NULL, 10) << 20);
        } else {
            if (!err)
                err = ph_reader_open_core(r, argv[1]);
            if (!err)
                err = ph_core_mapped_files(argv[1], add_mapping, &f);
        }
        if (err)
            die(err);
        double t0 = now(), c0 = cpu();
        ph_heap *h;
        if ((err = ph_heap_build(r, &syms, NULL, &h)))
            die(err);
        double t1 = now(), c1 = cpu();
        ph_heap_info info;
        ph_heap_info_get(h, &info);
        printf("%llu objects, %llu bytes, walk %.3f s, %.2f M objects/s, %.1f MB read, "
               "index %.1f B/object, skipped %llu, cpu %.3f s\n",
               (unsigned long long)info.objects, (unsigned long long)info.bytes, t1 - t0,
               info.objects / (t1 - t0) / 1e6, info.bytes_read / 1e6,
               (double)info.index_bytes / (double)(info.objects ? info.objects : 1),
               (unsigned long long)info.skipped, c1 - c0);
        if (dom) {
            ph_graph *g;
            double g0 = now();
            if ((err = ph_graph_get(h, &g)))
                die(err);
            printf("graph and dominators %.3f s, %llu edges, %u reachable\n", now() - g0,
                   (unsigned long long)g->nedges, g->reachable);
        }
        const ph_index *ix = &h->idx;
        printf("index: %zu objects in %zu pools (%zu blocks), %zu in the hash table (%zu slots)\n",
               ix->n - ix->by_addr.n, ix->npools, ix->nblocks, ix->by_addr.n, ix->by_addr.cap);
        FILE *st = fopen("/proc/self/status", "r");
        char line[256];
        while (st && fgets(line, sizeof(line), st))
            if (!strncmp(line, "VmHWM", 5) || !strncmp(line, "RssAnon", 7) || !strncmp(line, "RssFile", 7))
                fputs(line, stdout);
        if (st)
            fclose(st);
        ph_heap_free(h);
        ph_reader_free(r);
    }
    return 0;
}
