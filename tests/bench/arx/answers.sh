#!/usr/bin/env bash
# answers.sh: runs ARX (../shared/peers/arx, not part of Sekisho) on UCI
# Adult for every case tests/integration/test_vault_search.sh checks, and
# prints ARX's own lines. Their output is tests/data/adult/arx-answers.txt:
#
#   tests/bench/arx/answers.sh > tests/data/adult/arx-answers.txt
#
# The test then compares Sekisho's search with ARX's answers without
# running Java. Needs default-jre-headless.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
A=${ARX:-$TOP/../shared/peers/arx}
D=$TOP/tests/data/adult
Q8=sex,age,race,marital-status,education,native-country,workclass,occupation
arx() { java -cp "$A:$A/lib/*" ArxBench --data "$D/adult.csv" \
	--hierarchies "$D" --reps 0 "$@" | sed 's/ best_ms=.*//'; }
for q in "$Q8,salary-class" "$Q8"; do
	for k in 2 5 10; do
		for s in 1.0 0.0; do
			arx --qi "$q" --k "$k" --suppression "$s"
		done
	done
done
arx --qi "$Q8" --k 5 --suppression 0.1
arx --qi "$Q8" --k 5 --suppression 0.1 --l salary-class:2
arx --qi "$Q8" --k 3 --suppression 0.02 --l salary-class:2
# The benchmark policy's fixed levels (tests/bench/adult/adult-k5.policy):
# ARX's loss for them, marked pinned=.
arx --qi "$Q8" --k 5 --suppression 0.1 --levels 0,2,1,1,2,1,1,1 |
	sed 's/$/ pinned=0,2,1,1,2,1,1,1/'
# Non-uniform entropy (issue 19), by Sekisho's own driver for the models
# ArxBench does not ask for (tests/bench/arx/ArxModels.java), compiled here.
J=$(mktemp -d)
trap 'rm -rf "$J"' EXIT
javac -d "$J" -cp "$A:$A/lib/*" "$TOP/tests/bench/arx/ArxModels.java"
models() { java -cp "$J:$A:$A/lib/*" ArxModels --data "$D/adult.csv" \
	--hierarchies "$D" "$@"; }
for q in "$Q8,salary-class" "$Q8"; do
	for k in 2 5 10; do
		models --qi "$q" --k "$k" --suppression 0.0 --metric entropy
	done
done
models --qi "$Q8" --k 5 --suppression 0.05 --metric entropy
models --qi "$Q8" --k 2 --suppression 1.0 --metric entropy
models --qi "$Q8" --k 10 --suppression 1.0 --metric entropy
# t-closeness (issue 19) on occupation, by hierarchical and by equal
# ground distance, over the seven other quasi-identifiers.
Q7=sex,age,race,marital-status,education,native-country,workclass
for t in 0.15 0.2 0.3; do
	models --qi "$Q7" --k 5 --suppression 0.0 --t "occupation:$t:hierarchical"
done
models --qi "$Q7" --k 5 --suppression 0.05 --t occupation:0.3:hierarchical
models --qi "$Q7" --k 5 --suppression 0.0 --t occupation:0.2:equal
models --qi "$Q7" --k 5 --suppression 0.0 --t occupation:0.3:equal
