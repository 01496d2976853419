/* The heap as the public API hands it out: its end and its description.
 * Above analyses/, since the heap keeps the graph that graph.c builds on
 * first use; what the build made is given back by walk.c's ph_heap_release. */
#include "analyses/graph.h"
#include "heap/heap.h"

#include <string.h>

void ph_heap_free(ph_heap *h)
{
    if (!h)
        return;
    ph_graph_free(h->graph);
    ph_heap_release(h);
}

void ph_heap_info_get(const ph_heap *h, ph_heap_info *out)
{
    memset(out, 0, sizeof(*out));
    out->version = h->version;
    out->layout = h->layout_source;
    out->layout_checked = h->debug_offsets_checked;
    out->layout_origin = h->layout_origin;
    out->warning = h->warning[0] ? h->warning : NULL;
    out->probes = h->probes;
    out->nprobes = h->nprobes;
    out->gc_generations_shift = h->gc_generations_shift;
    out->interpreters = h->interpreters;
    out->threads = h->threads;
    out->objects = h->idx.n;
    for (size_t i = 0; i < h->idx.n; i++) {
        out->bytes += ph_index_size(&h->idx, i);
        if (h->types[h->idx.type[i]].estimate)
            out->estimated_objects++;
    }
    out->static_regions = h->nstatics;
    out->static_words = h->static_words;
    out->static_roots = h->nc_roots + h->nc_held;
    out->static_seconds = h->static_seconds;
    out->skipped = h->skipped;
    out->skips = h->skips;
    out->nskips = h->nskips;
    out->garbage_objects = h->garbage_objects;
    out->garbage_bytes = h->garbage_bytes;
    out->gc_collecting = h->gc_collecting;
    out->mi_threads = h->mi.threads;
    out->mi_pages = h->mi.pages;
    out->mi_abandoned_segments = h->mi.abandoned_segments;
    out->mi_gc_blocks = h->mi.blocks[PH_MI_GC] + h->mi.blocks[PH_MI_GC_PRE];
    out->mi_bad_pages = h->mi.bad_pages;
    for (int t = 0; t < PH_MI_NTAGS; t++) {
        out->mi_all_blocks += h->mi_all.blocks[t];
        out->mi_all_bytes += h->mi_all.bytes[t];
    }
    out->walk_seconds = h->walk_seconds;
    out->walk_cpu_seconds = h->walk_cpu_seconds;
    ph_reader_stats st;
    ph_reader_stats_get(h->r, &st);
    out->bytes_read = st.bytes_read;
    out->index_bytes = ph_index_bytes(&h->idx) + h->captypes * sizeof(ph_type);
    out->index_hashed = h->idx.by_addr.n;
    if (h->graph) {
        out->graph_seconds = h->graph->seconds;
        out->graph_bytes = ph_graph_bytes(h->graph);
    }
}
