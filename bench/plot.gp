# bench/plot.gp: the charts of bench/bench.sh, drawn from its CSV files.
# usage: gnuplot -e "dir='RESULTS'" bench/plot.gp
set datafile separator ','
set terminal pngcairo size 900,560 font 'sans,11' linewidth 1.5
set key top left box opaque autotitle columnheader
set grid
set style data linespoints
set pointsize 1.3

set output dir.'/rr-throughput.png'
set title "Echo round trips per second against concurrent connections (higher is better)\n(synack-load rr, 64-byte messages; each server and synack-load share one CPU; medians of the runs)"
set xlabel 'concurrent connections (log scale)'
set ylabel 'round trips per second (thousands)'
set logscale x
set xrange [0.7:1500]
set yrange [0:*]
set format y '%.0f'
plot dir.'/rr.csv' using 1:($2/1000) lw 2 pt 7, \
     '' using 1:($3/1000) lw 2 pt 5, \
     '' using 1:($4/1000) lw 2 pt 9

set output dir.'/hold-rss.png'
set title "Server memory (RSS) taken by idle connections (lower is better)\n(synack-load hold; the labels: bytes per client; the kernel's socket memory is not in a process's RSS)"
set xlabel 'idle connections held'
set ylabel 'growth of the server process RSS (MiB)'
unset logscale x
stats dir.'/hold.csv' using 1 nooutput
set xrange [0:STATS_max * 1.12]
set yrange [0:*]
set format y '%g'
set key top left
plot dir.'/hold.csv' using 1:2 title 'synackd' lw 2 pt 7, \
     '' using 1:3 title 'echo-epoll' lw 2 pt 5, \
     '' using 1:2:(sprintf('%d B', $4)) with labels offset -3,1 notitle, \
     '' using 1:3:(sprintf('%d B', $5)) with labels offset 3,1 notitle
