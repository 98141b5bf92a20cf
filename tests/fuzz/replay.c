/*  replay.c: a plain main() for a libFuzzer target, so that `make check` replays each committed
    corpus (tests/fuzz/corpus/<name>/) under the sanitizers without needing clang.
    Usage: replay_<name> FILE|DIR...   Exit status 0 when every input ran to the end. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
s_run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    uint8_t *data = malloc(size > 0 ? (size_t) size : 1);
    size_t got = fread(data, 1, (size_t) size, f);
    fclose(f);
    LLVMFuzzerTestOneInput(data, got);
    free(data);
    return 0;
}

int
main(int argc, char **argv)
{
    int inputs = 0, errors = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            errors++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            errors += s_run_file(argv[i]) != 0;
            inputs++;
            continue;
        }
        DIR *dir = opendir(argv[i]);
        struct dirent *entry;
        while (dir && (entry = readdir(dir))) {
            if (entry->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], entry->d_name);
            errors += s_run_file(path) != 0;
            inputs++;
        }
        if (dir)
            closedir(dir);
    }
    printf("replayed %d inputs, %d unreadable\n", inputs, errors);
    return errors ? 1 : 0;
}
