# SPDX-License-Identifier: ISC
# bench/stall.gp: the chart of bench/stall.sh, from synack-load's --timeseries CSV.
# usage: gnuplot -e "dir='RESULTS'; rate=N; stall_ms=N" bench/stall.gp
set datafile separator ','
set terminal pngcairo size 900,560 font 'sans,11' linewidth 1.5
set output dir.'/stall-timeseries.png'
set title sprintf("An open-loop run at %d requests/s whose server stalls for %d ms\n(synack-load -R, --timeseries: each second's latency, from each request's scheduled time)", rate, stall_ms)
set key top left box opaque
set grid
set xlabel 'seconds into the run'
set ylabel 'latency of the second (ms, log scale)'
set logscale y
set y2label 'requests answered in the second'
set y2tics
set ytics nomirror
set y2range [0:*]
set style data linespoints
set pointsize 1.2
# columns: time,elapsed_s,...,requests(16),...,p50_us(19),p99_us(20),max_us(21)
plot dir.'/stall.csv' using 2:($19/1000) title 'p50' lw 2 pt 7, \
     '' using 2:($20/1000) title 'p99' lw 2 pt 5, \
     '' using 2:($21/1000) title 'max' lw 2 pt 9, \
     '' using 2:16 axes x1y2 title 'requests answered' lw 1 dt 2 pt 1
