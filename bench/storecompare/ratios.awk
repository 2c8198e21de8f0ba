# ratios.awk: paired per-round throughput ratios from results.txt, where
# each round ran every store once, one after another (see README.md).
# For each client count and store it prints the geometric mean, the least
# and the greatest of postbox's msgs/s divided by that store's msgs/s in
# the same round, and in how many rounds postbox was the faster.
#
#	awk -f ratios.awk results.txt
/^BenchmarkQueueTraffic\// {
	name = $1
	sub(/-[0-9]+$/, "", name)
	split(name, p, "/")
	store = p[2]; c = p[3]
	for (i = 2; i < NF; i++) if ($(i + 1) == "msgs/s") v = $i
	r = ++n[store, c]
	val[store, c, r] = v
	if (!(store in seen)) { seen[store] = 1; order[++ns] = store }
	if (!(c in cseen)) { cseen[c] = 1; corder[++nc] = c }
}
END {
	printf "%-6s %-16s %8s %8s %8s %s\n", "c", "postbox ÷", "geomean", "min", "max", "postbox faster"
	for (j = 1; j <= nc; j++) {
		c = corder[j]
		for (k = 1; k <= ns; k++) {
			s = order[k]
			if (s == "postbox") continue
			rounds = n[s, c] < n["postbox", c] ? n[s, c] : n["postbox", c]
			sum = 0; lo = 1e18; hi = 0; wins = 0
			for (r = 1; r <= rounds; r++) {
				x = val["postbox", c, r] / val[s, c, r]
				sum += log(x)
				if (x < lo) lo = x
				if (x > hi) hi = x
				if (x > 1) wins++
			}
			printf "%-6s %-16s %7.2fx %7.2fx %7.2fx %d of %d\n", c, s, exp(sum / rounds), lo, hi, wins, rounds
		}
	}
}
