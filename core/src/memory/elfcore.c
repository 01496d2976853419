/* ELF core files: PT_LOAD segments become reader segments; the notes tell
 * which files were mapped where and which of them is the executable. */
#include "base/error.h"
#include "memory/reader.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NOTES_SIZE (64u << 20)

typedef struct core_file {
    int fd;
    uint64_t size;
    Elf64_Ehdr eh;
    Elf64_Phdr *ph;
} core_file;

static ph_error *core_open(const char *path, core_file *cf)
{
    cf->ph = NULL;
    cf->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (cf->fd < 0)
        return ph_error_new(PH_ERR_IO, 0, "cannot open core file %s: %s", path,
                            strerror(errno));
    struct stat st;
    if (fstat(cf->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(cf->fd);
        return ph_error_new(PH_ERR_FORMAT, 0, "%s is not a regular file", path);
    }
    cf->size = (uint64_t)st.st_size;
    ssize_t n = pread(cf->fd, &cf->eh, sizeof(cf->eh), 0);
    if (n != (ssize_t)sizeof(cf->eh) || memcmp(cf->eh.e_ident, ELFMAG, SELFMAG) != 0) {
        close(cf->fd);
        return ph_error_new(PH_ERR_FORMAT, 0, "%s is not an ELF core file", path);
    }
    if (cf->eh.e_ident[EI_CLASS] != ELFCLASS64 || cf->eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        cf->eh.e_machine != EM_X86_64) {
        close(cf->fd);
        return ph_error_new(PH_ERR_FORMAT, 0,
                            "%s is not an x86-64 core file; probe-heap reads x86-64 only", path);
    }
    if (cf->eh.e_type != ET_CORE) {
        close(cf->fd);
        return ph_error_new(PH_ERR_FORMAT, 0,
                            "%s is an ELF program, not a core file (pass it with --exe)", path);
    }
    if (cf->eh.e_phentsize != sizeof(Elf64_Phdr) || cf->eh.e_phnum == 0 ||
        cf->eh.e_phoff + (uint64_t)cf->eh.e_phnum * sizeof(Elf64_Phdr) > cf->size) {
        close(cf->fd);
        return ph_error_new(PH_ERR_FORMAT, 0,
                            "the core file %s is truncated or damaged: its program headers "
                            "are missing",
                            path);
    }
    size_t phsz = (size_t)cf->eh.e_phnum * sizeof(Elf64_Phdr);
    cf->ph = malloc(phsz);
    if (!cf->ph) {
        close(cf->fd);
        return PH_NOMEM;
    }
    if (pread(cf->fd, cf->ph, phsz, (off_t)cf->eh.e_phoff) != (ssize_t)phsz) {
        free(cf->ph);
        close(cf->fd);
        return ph_error_new(PH_ERR_IO, 0, "cannot read %s", path);
    }
    return NULL;
}

ph_error *ph_reader_open_core(ph_reader *r, const char *path)
{
    core_file cf;
    ph_error *err = core_open(path, &cf);
    if (err)
        return err;
    uint64_t need = 0;
    for (unsigned i = 0; i < cf.eh.e_phnum; i++) {
        const Elf64_Phdr *p = &cf.ph[i];
        if (p->p_type != PT_LOAD && p->p_type != PT_NOTE)
            continue;
        if (p->p_offset + p->p_filesz > need)
            need = p->p_offset + p->p_filesz;
    }
    if (need > cf.size) {
        err = ph_error_new(PH_ERR_FORMAT, 0,
                           "the core file %s is truncated: it has %llu of its %llu bytes", path,
                           (unsigned long long)cf.size, (unsigned long long)need);
        free(cf.ph);
        close(cf.fd);
        return err;
    }
    err = ph_reader_own_fd(r, cf.fd);
    if (err) {
        free(cf.ph);
        close(cf.fd);
        return err;
    }
    /* Mapped, the core is read straight from the kernel's page cache: no
     * copy into ours, no system call per page.  (It was checked above not to
     * be truncated; where it cannot be mapped, it is read.) */
    const unsigned char *map = ph_reader_map_file(r, cf.fd, cf.size);
    for (unsigned i = 0; i < cf.eh.e_phnum && !err; i++) {
        const Elf64_Phdr *p = &cf.ph[i];
        if (p->p_type != PT_LOAD || !p->p_filesz)
            continue;
        err = map ? ph_reader_add_mapped(r, p->p_vaddr, p->p_filesz, map + p->p_offset)
                  : ph_reader_add_file(r, p->p_vaddr, p->p_filesz, cf.fd, p->p_offset);
    }
    free(cf.ph);
    return err;
}

/* Walks the notes of a core, calling fn for each (type, descriptor). */
typedef ph_error *note_fn(uint32_t type, const unsigned char *desc, size_t len, void *payload);

static ph_error *for_each_note(const core_file *cf, note_fn *fn, void *payload)
{
    for (unsigned i = 0; i < cf->eh.e_phnum; i++) {
        const Elf64_Phdr *p = &cf->ph[i];
        if (p->p_type != PT_NOTE || p->p_filesz > MAX_NOTES_SIZE ||
            p->p_offset + p->p_filesz > cf->size)
            continue;
        unsigned char *buf = malloc(p->p_filesz ? p->p_filesz : 1);
        if (!buf)
            return PH_NOMEM;
        if (pread(cf->fd, buf, p->p_filesz, (off_t)p->p_offset) != (ssize_t)p->p_filesz) {
            free(buf);
            continue;
        }
        size_t off = 0;
        while (off + sizeof(Elf64_Nhdr) <= p->p_filesz) {
            Elf64_Nhdr nh;
            memcpy(&nh, buf + off, sizeof(nh));
            size_t name_at = off + sizeof(nh);
            size_t desc_at = name_at + ((nh.n_namesz + 3u) & ~3u);
            size_t next = desc_at + ((nh.n_descsz + 3u) & ~3u);
            if (desc_at > p->p_filesz || nh.n_descsz > p->p_filesz - desc_at)
                break;
            ph_error *err = fn(nh.n_type, buf + desc_at, nh.n_descsz, payload);
            if (err) {
                free(buf);
                return err;
            }
            off = next;
        }
        free(buf);
    }
    return NULL;
}

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

typedef struct exe_search {
    uint64_t entry;      /* AT_ENTRY from the auxiliary vector */
    char *files;         /* copy of the NT_FILE descriptor */
    size_t files_len;
} exe_search;

static ph_error *collect_note(uint32_t type, const unsigned char *desc, size_t len, void *payload)
{
    exe_search *s = payload;
    if (type == NT_AUXV) {
        for (size_t off = 0; off + 16 <= len; off += 16) {
            uint64_t key, val;
            memcpy(&key, desc + off, 8);
            memcpy(&val, desc + off + 8, 8);
            if (key == AT_ENTRY)
                s->entry = val;
        }
    } else if (type == NT_FILE && !s->files) {
        s->files = malloc(len + 1);
        if (!s->files)
            return PH_NOMEM;
        memcpy(s->files, desc, len);
        s->files[len] = 0;
        s->files_len = len;
    }
    return NULL;
}

ph_error *ph_core_mapped_files(const char *core_path, ph_mapped_file_fn *fn, void *payload)
{
    core_file cf;
    ph_error *err = core_open(core_path, &cf);
    if (err)
        return err;
    exe_search s = {0};
    err = for_each_note(&cf, collect_note, &s);
    free(cf.ph);
    close(cf.fd);
    if (err || !s.files) {
        free(s.files);
        return err;
    }
    /* NT_FILE: count, page size, count * {start, end, file_ofs}, then names. */
    uint64_t count, pagesz;
    if (s.files_len < 16)
        goto out;
    memcpy(&count, s.files, 8);
    memcpy(&pagesz, s.files + 8, 8);
    if (count > (s.files_len - 16) / 24)
        goto out;
    const char *name = s.files + 16 + count * 24;
    const char *end = s.files + s.files_len;
    for (uint64_t i = 0; i < count && name < end; i++) {
        uint64_t v[3];
        memcpy(v, s.files + 16 + i * 24, sizeof(v));
        bool is_exe = s.entry && s.entry >= v[0] && s.entry < v[1];
        err = fn(v[0], v[1], v[2] * pagesz, name, is_exe, payload);
        if (err)
            break;
        name += strnlen(name, (size_t)(end - name)) + 1;
    }
out:
    free(s.files);
    return err;
}
