# SPDX-License-Identifier: ISC
# bench/plot.gp: the charts of bench/bench.sh, drawn from its CSV files.
# usage: gnuplot -e "dir='RESULTS'; pins='same split'" bench/plot.gp
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

# Stream: one panel per pinning, each kind against its reference, iperf3 as
# the anchor.  The columns of stream.csv are named PIN_KIND_SERVER.
reset
set datafile separator ','
set output dir.'/stream-throughput.png'
npins = words(pins)
set terminal pngcairo size (npins > 1 ? 1400 : 900),680 font 'sans,11' linewidth 1.5
set multiplot layout 1,npins title "Stream throughput against connections (higher is better; synack-load -m stream, medians of the runs)\nthe rate that counts: echoed and verified, sent into discard, received from chargen and verified"
set style data linespoints
set pointsize 1.3
set grid
set key outside bottom center horizontal maxrows 3 font ',10'
set logscale x 2
set xrange [0.8:10]
set xtics ('1 connection' 1, '8 connections' 8)
unset xlabel
set ylabel 'GB/s'
set yrange [0:*]
do for [i=1:npins] {
	p = word(pins, i)
	set title (p eq 'same' ? 'PIN=same: server and client on one CPU' : \
	    p eq 'split' ? 'PIN=split: the client on its own CPU' : 'not pinned')
	plot dir.'/stream.csv' using 1:(column(p.'_echo_synackd')/1000) title 'synackd echo' lw 2 pt 7 lc 1, \
	     '' using 1:(column(p.'_echo_epoll')/1000) title 'echo-epoll' lw 2 pt 6 dt 2 lc 1, \
	     '' using 1:(column(p.'_discard_synackd')/1000) title 'synackd discard' lw 2 pt 5 lc 2, \
	     '' using 1:(column(p.'_discard_epoll')/1000) title 'echo-epoll -D' lw 2 pt 4 dt 2 lc 2, \
	     '' using 1:(column(p.'_chargen_synackd')/1000) title 'synackd chargen' lw 2 pt 9 lc 3, \
	     '' using 1:(column(p.'_chargen_epoll')/1000) title 'echo-epoll -C' lw 2 pt 8 dt 2 lc 3, \
	     '' using 1:(column(p.'_iperf3')/1000) title 'iperf3 (-P 8 at 8)' lw 2 pt 13 lc rgb 'black'
}
unset multiplot
