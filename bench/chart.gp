# uvplug-bench chart: each case's cost against its peer and against the
# floor, log scale. Called by uvplug-bench as
#   gnuplot -e "datafile='results.dat'; outfile='results.png'" chart.gp
# results.dat: case <TAB> ratio_to_floor <TAB> ratio_to_peer (one per line).
if (!exists("datafile")) datafile = 'results.dat'
if (!exists("outfile")) outfile = 'results.png'

set terminal pngcairo size 1400,800 noenhanced font ",10"
set output outfile
set datafile separator "\t"
set title "uvplug-bench: cost ratios (below 1 = cheaper than the reference)"
set logscale y
set ylabel "ratio (log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -60 scale 0
set grid ytics
set key top left
set yrange [0.01:*]
plot datafile using 3:xtic(1) title "x peer", \
     '' using 2 title "x floor", \
     1 with lines lc rgb "black" dt 2 notitle
