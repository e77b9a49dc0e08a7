# Two commands on a fresh machine: `make train` and `make test`. `make help` lists every target.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STANCE := $(BIN)/stance
CONFIG ?= configs/default.yaml
A ?= models/default/report
B ?= models/candidate/report

.DEFAULT_GOAL := help
.PHONY: help setup train build evaluate test lint score candidate compare seeds source-model attribution attribution-commentary train-transfer mixture mixture-loso benchmark bench bench-train bench-attribution clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

setup: $(VENV)/.installed ## create .venv and install the package with every extra the README's commands use

# torch is pinned: an unpinned torch pulls a multi-GB CUDA build. One pip call resolves everything at once;
# a current pip first (the venv's bundled one misses extras such as trafilatura's lxml_html_clean).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0 -e ".[test,onnx,parquet,ray]"
	touch $@

train: setup ## build -> train -> evaluate the default model on the embedded corpus (about 11 min on 2 cores)
	$(STANCE) build $(CONFIG)
	$(STANCE) train $(CONFIG)
	$(STANCE) evaluate $(CONFIG)

build: setup ## stance build CONFIG (default configs/default.yaml): the dataset folder and its data report
	$(STANCE) build $(CONFIG)

evaluate: setup ## stance evaluate CONFIG: the report folder of CONFIG's trained model
	$(STANCE) evaluate $(CONFIG)

test: setup ## run the test suite (tiny models, offline; under 3 min after setup)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q tests

lint: setup ## ruff check pipeline, tests and bench (rules in pyproject.toml)
	$(BIN)/ruff check pipeline tests bench

score: setup ## batch-score the embedded port-strike articles with the default model into scored/port-strike
	$(STANCE) score --model models/default --dispute configs/disputes/port-strike.yaml data/corpus/port-strike --output scored/port-strike

candidate: setup ## a second model version (seed 7) evaluated on the same data, for make compare
	$(STANCE) train $(CONFIG) --train.output_dir models/candidate --train.seed 7
	$(STANCE) evaluate --model models/candidate --data data/built/default

compare: setup ## stance compare A B (default A=models/default/report B=models/candidate/report)
	$(STANCE) compare $(A) $(B)

seeds: setup models/default/label_map.json ## the default config with seeds 14 and 15 too: how article verdicts change (about 25 min)
	for s in 14 15; do test -f models/seed-$$s/label_map.json || $(STANCE) train $(CONFIG) --train.seed $$s --train.output_dir models/seed-$$s || exit 1; done
	$(BIN)/python bench/verdict_seeds.py

source-model: setup ## the source-side classifier used by stance score --source-model
	$(STANCE) build configs/source_side.yaml
	$(STANCE) train configs/source_side.yaml
	$(STANCE) evaluate configs/source_side.yaml

# PolNeAR spans -> a token classifier; evaluated on PolNeAR test and on the commentary passages of the default
# dataset, data/built/default (rules / model / combined). Use it with build.attribution.model or stance score --attribution-model.
attribution: setup ## the attribution model (PolNeAR: ../shared/data/polnear or POLNEAR=/path/to/PolNeAR/data; about 1 h)
	$(STANCE) build configs/attribution.yaml $(if $(POLNEAR),--build.polnear.path $(POLNEAR))
	$(STANCE) train configs/attribution.yaml
	$(STANCE) build configs/default.yaml
	$(STANCE) evaluate configs/attribution.yaml

attribution-commentary: setup ## the attribution model continued on the corpus's commentary register (after make attribution)
	$(STANCE) build configs/default.yaml
	$(STANCE) build configs/attribution-commentary.yaml
	$(STANCE) train configs/attribution-commentary.yaml
	$(STANCE) evaluate configs/attribution-commentary.yaml

# The default config started from the NewsMTSC model (intermediate training on target-dependent
# news sentiment) instead of plain MiniLM; compare with `make compare B=models/transfer/report`.
train-transfer: setup ## the default config started from the NewsMTSC model (needs ../shared/data; about 45 min)
	$(MAKE) benchmark NAME=newsmtsc
	$(STANCE) build $(CONFIG)
	$(STANCE) train $(CONFIG) --train.model models/newsmtsc --train.output_dir models/transfer
	$(STANCE) evaluate --model models/transfer --data data/built/default

# The corpus and ten public benchmarks, all in the commentary input (docs/mixture.md), one model; then the
# default model scored on the same data and compared with it (side favored, per-source figures).
mixture: setup models/default/label_map.json ## the mixture model and its comparison with the default (needs ../shared/data; about 20 min)
	$(STANCE) build configs/mixture.yaml
	$(STANCE) train configs/mixture.yaml
	$(STANCE) evaluate configs/mixture.yaml
	$(STANCE) evaluate --model models/default --data data/built/mixture --output models/mixture/default-report
	$(STANCE) compare models/mixture/default-report models/mixture/report --output models/mixture/compare

mixture-loso: setup ## leave-one-source-out: train without X, test on X, per source (LOSO_ARGS="--sources a,b"; about 1 h)
	$(BIN)/python bench/mixture_loso.py $(LOSO_ARGS)

# NAME is one of semeval2016, pstance, fnc1, liar, newsmtsc, multi-target, persent, persent-devtrain, persent-document, emergent,
# commitmentbank, ibm-claim-stance, perspectrum (configs/benchmarks/).
benchmark: setup ## a public benchmark end to end: make benchmark NAME=semeval2016 (needs ../shared/data)
	$(STANCE) build configs/benchmarks/$(NAME).yaml
	$(STANCE) train configs/benchmarks/$(NAME).yaml
	$(STANCE) evaluate configs/benchmarks/$(NAME).yaml

# Add BENCH_ARGS="--memory-articles 10000" for the RSS flatness run.
bench: setup models/default/label_map.json ## scoring backends vs HF pipeline baselines, end to end (about 10 min)
	OMP_NUM_THREADS=2 $(BIN)/python bench/bench_score.py $(BENCH_ARGS)

bench-train: setup ## training throughput vs run_classification.py's pad-to-128 (SemEval-2016; needs ../shared/data)
	OMP_NUM_THREADS=2 $(BIN)/python bench/bench_train.py $(BENCH_ARGS)

bench-attribution: setup ## attribution rules vs PolNeAR's gold spans (needs ../shared/data/polnear; no model)
	OMP_NUM_THREADS=1 $(BIN)/python bench/bench_attribution.py

MODELS := models/default models/mixture models/mixture-loso models/candidate models/attribution models/attribution-commentary models/transfer models/source_side models/semeval2016 models/pstance models/fnc1 models/liar models/newsmtsc models/multi-target

clean: ## remove built data, scored output, bench output, trained models and their training state (<model>.state)
	rm -rf data/built scored reports bench/out $(MODELS) $(addsuffix .state,$(MODELS))

models/default/label_map.json:
	$(MAKE) train
