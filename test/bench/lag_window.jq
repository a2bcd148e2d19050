# The loop lag of one member over a window, from two readings of
# GET /1.0 .metadata.loop_lag: $now, and $mark (or null: since its start).
# Buckets are tenths of a millisecond; the last one (1000) holds every lag
# of 100 ms or more. Prints one line: p99.9 and the largest lag seen in
# the window (upper bounds of their buckets), the same without the time
# the loop thread waited for a CPU ("held": what the member itself held
# the loop for), and the ticks counted.
def entries($now; $mark):
  ($mark // {}) as $m
  | [($now // {}) | to_entries[]
     | {k: (.key | tonumber), v: (.value - ($m[.key] // 0))}
     | select(.v > 0)]
  | sort_by(.k);
def upper($k): if $k >= 1000 then ">= 100" else (($k + 1) / 10 | tostring) end;
def pct($e; $q):
  ($e | map(.v) | add // 0) as $total
  | if $total == 0 then null
    else ((($total * $q) | floor) | if . >= $total then $total - 1 else . end) as $want
      | (reduce $e[] as $x ({seen: 0, k: null};
           if .k == null then .seen += $x.v | (if .seen > $want then .k = $x.k else . end)
           else . end)).k
    end;
entries($now.buckets; $mark.buckets) as $e
| entries($now.held_buckets; $mark.held_buckets) as $h
| ($e | map(.v) | add // 0) as $ticks
| if $ticks == 0 then "no ticks"
  else "p99.9 \(upper(pct($e; 0.999))) ms, max \(upper($e[-1].k)) ms"
    + (if ($h | length) > 0
       then " (held: p99.9 \(upper(pct($h; 0.999))) ms, max \(upper($h[-1].k)) ms)"
       else "" end)
    + ", \($ticks) ticks"
  end
