# Two commands on a fresh machine: `make train` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STANCE := $(BIN)/stance
CONFIG ?= configs/default.yaml
A ?= models/default/report
B ?= models/candidate/report

.PHONY: setup train build evaluate test score candidate compare bench bench-attribution clean benchmark bench-train source-model train-transfer

setup: $(VENV)/.installed

# torch is pinned and installed first: an unpinned torch pulls a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[test]"
	touch $@

# build -> train -> evaluate on the embedded default corpus
train: setup
	$(STANCE) build $(CONFIG)
	$(STANCE) train $(CONFIG)
	$(STANCE) evaluate $(CONFIG)

build: setup
	$(STANCE) build $(CONFIG)

evaluate: setup
	$(STANCE) evaluate $(CONFIG)

test: setup
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q tests

# batch-score the embedded port-strike articles with the trained default model
score: setup
	$(STANCE) score --model models/default --dispute configs/disputes/port-strike.yaml data/corpus/port-strike --output scored/port-strike

# a second model version (another seed) evaluated on the same data, for `make compare`
candidate: setup
	$(STANCE) train $(CONFIG) --train.output_dir models/candidate --train.seed 7
	$(STANCE) evaluate --model models/candidate --data data/built/default

compare: setup
	$(STANCE) compare $(A) $(B)

# the source-side classifier used by `stance score --source-model` where the attribution rules find no source
source-model: setup
	$(STANCE) build configs/source_side.yaml
	$(STANCE) train configs/source_side.yaml
	$(STANCE) evaluate configs/source_side.yaml

# the default config started from the NewsMTSC model (intermediate training on target-dependent
# news sentiment) instead of plain MiniLM; needs ../shared/data; compare with `make compare B=models/transfer/report`
train-transfer: setup
	$(MAKE) benchmark NAME=newsmtsc
	$(STANCE) build $(CONFIG)
	$(STANCE) train $(CONFIG) --train.model models/newsmtsc --train.output_dir models/transfer
	$(STANCE) evaluate --model models/transfer --data data/built/default

# a public benchmark end to end: make benchmark NAME=semeval2016 (pstance, fnc1, liar, newsmtsc, multi-target); needs ../shared/data
benchmark: setup
	$(STANCE) build configs/benchmarks/$(NAME).yaml
	$(STANCE) train configs/benchmarks/$(NAME).yaml
	$(STANCE) evaluate configs/benchmarks/$(NAME).yaml

# backends, HF pipeline baselines, end to end; add BENCH_ARGS="--memory-articles 10000" for the RSS flatness run
bench: setup models/default/label_map.json
	OMP_NUM_THREADS=2 $(BIN)/python bench/bench_score.py $(BENCH_ARGS)

# training throughput: dynamic padding + length-grouped batches vs run_classification.py's pad-to-128 (SemEval-2016; needs ../shared/data)
bench-train: setup
	OMP_NUM_THREADS=2 $(BIN)/python bench/bench_train.py $(BENCH_ARGS)

# attribution rules vs gold spans on PolNeAR's test split (needs ../shared/data/polnear); no model needed
bench-attribution: setup
	OMP_NUM_THREADS=1 $(BIN)/python bench/bench_attribution.py

clean:
	rm -rf data/built scored reports bench/out models/default models/candidate models/transfer models/source_side models/semeval2016 models/pstance models/fnc1 models/liar models/newsmtsc models/multi-target

models/default/label_map.json:
	$(MAKE) train
