# Picks a small corpus from a libFuzzer merge control file (-merge_control_file): every
# hand-named seed, then greedily the input that reaches the most code edges not reached yet,
# until `limit` inputs were added or none adds anything. Prints the chosen paths (and, on
# standard error, how many of all the edges they reach).
#
#   awk -v limit=30 -f pick_corpus.awk CONTROL_FILE
NR == 1 { files = $1; next }
NR == 2 { next }
NR <= files + 2 { path[NR - 3] = $0; next }
$1 == "COV" {
    index_ = $2
    count[index_] = NF - 2
    for (field = 3; field <= NF; field++) {
        edge[index_, field - 2] = $field
        all_edges[$field] = 1
    }
}
function take(chosen,    k) {
    taken[chosen] = 1
    for (k = 1; k <= count[chosen]; k++) covered[edge[chosen, k]] = 1
    print path[chosen]
}
function is_hash_name(name) {
    return length(name) == 40 && name ~ /^[0-9a-f]+$/
}
END {
    for (i = 0; i < files; i++) {
        name = path[i]
        sub(/.*\//, "", name)
        if (!is_hash_name(name)) take(i)
    }
    for (round = 0; round < limit; round++) {
        best = -1
        best_gain = 0
        for (i = 0; i < files; i++) {
            if (i in taken || !(i in count)) continue
            gain = 0
            for (k = 1; k <= count[i]; k++) if (!(edge[i, k] in covered)) gain++
            if (gain > best_gain) { best = i; best_gain = gain }
        }
        if (best < 0) break
        take(best)
    }
    reached = 0
    for (e in covered) reached++
    total = 0
    for (e in all_edges) total++
    printf "kept inputs reach %d of the %d edges all inputs reach\n", reached, total > "/dev/stderr"
}
