# basin: the make-driven pipeline. `make test` and `make demo` are all the set-up there is.
#
#   make demo     the whole study on the default Fashion-MNIST transfer task, reduced (minutes)
#   make paper    the same study at full size (hours)
#   make test     the test suite (what CI runs)
#
# Every result is a file with real prerequisites: a finished run does nothing the second
# time, a deleted checkpoint rebuilds only what depends on it, an interrupted run resumes
# (training runs continue from their resume checkpoints, planes from their partial grids),
# and changing a setting below re-runs exactly the steps that use it. Both targets run
# $(JOBS) jobs at a time with $(JOB_THREADS) thread(s) each; results do not depend on JOBS.
SHELL := /bin/bash

# ======================================================================================
# Configuration: one place. Override on the command line: `make demo N=4 PLANE_GRID=13`.
# ======================================================================================
# demo or paper: picks the column of values below.
PROFILE      ?= demo
DATASET      ?= /usr/share/datasets/fashion-mnist
MODEL        ?= cnn
# Pre-training classes, and fine-tuning classes (labels re-indexed 0..C-1 in this order).
SOURCE_CLASSES ?= 0,1,3,5,8
TARGET_CLASSES ?= 2,4,6,7,9
# DATA_SEED draws the target training images; member k of an ensemble trains with seed SEED + k - 1.
DATA_SEED    ?= 0
SEED         ?= 0
# Where compute steps run: empty for this machine, `slurm` to run each one as a Slurm step
# (README, "On a Slurm cluster"). Results are the same bits either way.
CLUSTER      ?=
# Jobs at a time, and threads per job (results depend on JOB_THREADS, never on JOBS). Under
# CLUSTER=slurm inside an allocation, one job per allocated task.
JOBS         ?= $(if $(and $(filter slurm,$(CLUSTER)),$(SLURM_NTASKS)),$(SLURM_NTASKS),$(shell nproc 2>/dev/null || echo 2))
JOB_THREADS  ?= 1
# Plane and simplex grids are computed in this many shard steps and merged (`basin merge`).
GRID_SHARDS  ?= 1
# CLUSTER=slurm: how many times a failed step (command error, cancelled, node lost) is rerun.
STEP_RETRIES ?= 2

ifeq ($(PROFILE),demo)
# Pre-trained checkpoints (seeds 0..PT_N-1; Global DE fine-tunes the first N); source images
# per class ("all" for every image), epochs, batch and peak LR of pre-training (cosine to 0).
PT_N         ?= 3
PT_PER_CLASS ?= all
PT_EPOCHS    ?= 2
PT_BATCH     ?= 32
PT_LR        ?= 0.05
# Target images per class; epochs, peak LR and batch of fine-tuning and of training from
# scratch. Cycles last epoch ratio x FT_EPOCHS epochs at LR ratio x FT_LR.
FT_PER_CLASS ?= 20
FT_EPOCHS    ?= 100
FT_LR        ?= 0.02
FT_BATCH     ?= 32
# Ensemble size of every method.
N            ?= 3
# SSE and StarSSE sweep: cycle LR ratios and cycle epoch ratios (space-separated).
SWEEP_LR_RATIOS    ?= 0.5 1 2 4 8 16 32
SWEEP_EPOCH_RATIOS ?= 1
# The SSE/StarSSE cell of the headline table, soups, diversity and finding (d).
HEADLINE_LR_RATIO    ?= 2
HEADLINE_EPOCH_RATIO ?= 1
# Planes through member 1 and an SSE and a StarSSE snapshot: one per cycle LR ratio.
PLANE_LR_RATIOS ?= 2 32
# Plane grid (N or NXxNY); BatchNorm recompute images; test images of barriers, membership
# and planes ("all" for every one); points per interpolation and per membership segment.
PLANE_GRID   ?= 11
BN_IMAGES    ?= 500
EVAL_IMAGES  ?= 2000
INTERP_POINTS ?= 25
MEMBERSHIP_POINTS ?= 11
# Loss barrier (nats) from which two models count as separated (not in one basin).
THRESHOLD    ?= 0.1
# Held-out images per target class for greedy soups (training images outside the fine-tuning sample).
SOUP_HOLDOUT ?= 200
else ifeq ($(PROFILE),paper)
PT_N         ?= 5
PT_PER_CLASS ?= all
PT_EPOCHS    ?= 4
PT_BATCH     ?= 32
PT_LR        ?= 0.05
FT_PER_CLASS ?= 200
FT_EPOCHS    ?= 100
FT_LR        ?= 0.02
FT_BATCH     ?= 32
N            ?= 5
SWEEP_LR_RATIOS    ?= 0.25 0.5 1 2 4 8 16
SWEEP_EPOCH_RATIOS ?= 0.5 1 2 4
HEADLINE_LR_RATIO    ?= 2
HEADLINE_EPOCH_RATIO ?= 1
PLANE_LR_RATIOS ?= 2 16
PLANE_GRID   ?= 21
BN_IMAGES    ?= 2000
EVAL_IMAGES  ?= all
INTERP_POINTS ?= 25
MEMBERSHIP_POINTS ?= 11
THRESHOLD    ?= 0.1
SOUP_HOLDOUT ?= 200
else
$(error PROFILE must be demo or paper, got '$(PROFILE)')
endif

# Where results go: checkpoints and results files, CSV tables and summary, figures.
RUNS  ?= runs/$(PROFILE)
DATA  ?= notebooks-data$(if $(filter paper,$(PROFILE)),/paper)
PLOTS ?= plots$(if $(filter paper,$(PROFILE)),/paper)

# Build and test settings.
SWIFT        ?= swift
CONFIG       ?= release
BIN          := .build/$(CONFIG)/basin
SUDO         := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
DEBIAN_PKGS  := pkg-config libopenblas-dev libhdf5-dev hdf5-tools libpng-dev zlib1g-dev \
                libcairo2-dev fonts-dejavu-core dataset-fashion-mnist
# Threads of bench and train.
THREADS      ?= 2

.PHONY: all deps build test test-cluster bench train demo paper study checkpoints tables summary plots \
        plot-available cli-docs clean clean-study FORCE
.DELETE_ON_ERROR:

all: build

# ======================================================================================
# Set-up, build, tests
# ======================================================================================
define install_deps
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing; \
	else echo "make deps: all Debian packages present"; fi
endef

## deps: install the Debian packages that are missing (apt-get, as root or through sudo).
deps:
	$(call install_deps,$(DEBIAN_PKGS))

## build: the release binary .build/release/basin.
build: deps
	$(SWIFT) build -c $(CONFIG)

## test: the whole test suite (unit tests, gradient checks, golden values, CLI tests).
test: deps
	$(SWIFT) build -c $(CONFIG)
	BASIN_BIN=$(abspath $(BIN)) $(SWIFT) test -c $(CONFIG)

## test-cluster: the pipeline on a one-node Slurm cluster started on this machine (installs
## slurm-wlm and munge): sharded plane, ensemble steps, a killed step resumed; same bits as local.
test-cluster: build
	$(call install_deps,slurm-wlm munge)
	BIN=$(abspath $(BIN)) scripts/cluster/test-cluster.sh

## bench: the workloads of ../shared/bench/WORKLOADS.md, one line per figure.
bench: build
	$(BIN) bench W5 --threads $(THREADS)
	for m in mlp cnn resnet20; do $(BIN) bench W1 $$m --threads $(THREADS) || exit 1; done
	for m in mlp cnn resnet20; do $(BIN) bench W2 $$m --threads $(THREADS) || exit 1; done
	$(BIN) bench W3 --threads $(THREADS)
	$(BIN) bench W4 --threads $(THREADS)

## train: train the default model on all ten Fashion-MNIST classes and print test accuracy.
train: build
	$(BIN) train --model $(MODEL) --epochs 4 --lr 0.05 --seed $(SEED) --threads $(THREADS)

# The pipeline builds the binary as a file: rebuilt when a source changes. Results depend on
# it order-only, so rebuilding does not redo the study (delete runs/ for that).
DEPS_STAMP := .build/.deps-ok
$(DEPS_STAMP):
	$(call install_deps,$(DEBIAN_PKGS))
	@mkdir -p $(@D) && touch $@

$(BIN): $(shell find Sources -type f 2>/dev/null) Package.swift | $(DEPS_STAMP)
	$(SWIFT) build -c $(CONFIG)
	@touch $@

# ======================================================================================
# The study
# ======================================================================================
## demo: the study at demo size (CSV tables and summary in notebooks-data/, figures in plots/).
## paper: the same at full size (notebooks-data/paper/, plots/paper/).
# Figures come after the tables, so a missing `basin plot` cannot stop the study.
demo paper: | $(BIN)
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -j$(JOBS) PROFILE=$@ study && \
	$(MAKE) --no-print-directory -j$(JOBS) PROFILE=$@ plots; status=$$?; \
	echo "make $@: $$(( $$(date +%s) - start )) s wall time (exit $$status)"; exit $$status

## study: every table and the summary of PROFILE (no figures).
# Prerequisites start in this order under -j: the critical path (pt-0, member 1, the SSE
# chains) first.
study: $(PT0) $(M1) checkpoints tables $(DATA)/summary.md

comma := ,
pt_seeds   := $(shell seq 0 $$(( $(PT_N) - 1 )))
members    := $(shell seq 1 $(N))
snapshots  := $(filter-out 1,$(members))
last       := $(N)
prev        = $(word $(1),0 $(members))
count_flag  = $(if $(filter all,$(1)),,$(2) $(1))

# Analyses write their progress lines to <target>.log, shown when they fail.
logged = $(1) 2> $@.log || { tail -n 20 $@.log >&2; exit 1; }

# Every compute step's command starts with $(STEP): nothing locally; under CLUSTER=slurm the
# step runs through srun (retried STEP_RETRIES times, resuming), logged to $(RUNS)/logs/.
ifeq ($(CLUSTER),slurm)
STEP = scripts/cluster/slurm-step --cpus $(JOB_THREADS) --retries $(STEP_RETRIES) --name basin-$(notdir $@) \
       --log $(RUNS)/logs/$(subst /,-,$(patsubst $(RUNS)/%,%,$@)).log --
else ifneq ($(CLUSTER),)
$(error CLUSTER must be empty (this machine) or slurm, got '$(CLUSTER)')
endif
ifneq ($(shell [ "$(GRID_SHARDS)" -ge 1 ] 2>/dev/null && echo ok),ok)
$(error GRID_SHARDS must be a whole number of at least 1, got '$(GRID_SHARDS)')
endif
grid_shards := $(shell seq 0 $$(( $(GRID_SHARDS) - 1 )))

# A resume checkpoint (or partial grid) older than a prerequisite belongs to other inputs:
# remove it so the step starts over instead of refusing to resume.
define drop_stale
@for f in $(1); do [ -e "$$f" ] || continue; for p in $^; do \
  if [ "$$p" -nt "$$f" ]; then echo "removing $$f (older than $$p)"; rm -f "$$f"; break; fi; done; done
endef

# Settings files: rewritten only when their content changes, so a changed setting re-runs
# just the steps that depend on it (and a second `make` does nothing).
define settings_rule
$(RUNS)/settings/$(1).txt: FORCE
	@mkdir -p $$(@D); printf '%s\n' $(2) > $$@.new; \
	if cmp -s $$@.new $$@; then rm -f $$@.new; else mv -f $$@.new $$@; fi
endef
$(eval $(call settings_rule,pretrain,dataset=$(DATASET) model=$(MODEL) classes=$(SOURCE_CLASSES) per_class=$(PT_PER_CLASS) epochs=$(PT_EPOCHS) batch=$(PT_BATCH) lr=$(PT_LR)))
$(eval $(call settings_rule,finetune,dataset=$(DATASET) model=$(MODEL) classes=$(TARGET_CLASSES) per_class=$(FT_PER_CLASS) data_seed=$(DATA_SEED) epochs=$(FT_EPOCHS) lr=$(FT_LR) batch=$(FT_BATCH) seed=$(SEED)))
$(eval $(call settings_rule,analysis,dataset=$(DATASET) bn_images=$(BN_IMAGES) eval_images=$(EVAL_IMAGES) soup_holdout=$(SOUP_HOLDOUT)))
$(eval $(call settings_rule,interpolate,points=$(INTERP_POINTS)))
$(eval $(call settings_rule,membership,points=$(MEMBERSHIP_POINTS) threshold=$(THRESHOLD)))
$(eval $(call settings_rule,plane,grid=$(PLANE_GRID)))
SET_PT := $(RUNS)/settings/pretrain.txt
SET_FT := $(RUNS)/settings/finetune.txt
$(eval $(call settings_rule,report,headline=$(HEADLINE_LR_RATIO)_$(HEADLINE_EPOCH_RATIO) sweep=$(subst $() ,_,$(SWEEP_LR_RATIOS))/$(subst $() ,_,$(SWEEP_EPOCH_RATIOS)) planes=$(subst $() ,_,$(PLANE_LR_RATIOS)) threshold=$(THRESHOLD) n=$(N) pt_n=$(PT_N)))
SET_AN := $(RUNS)/settings/analysis.txt
SET_RP := $(RUNS)/settings/report.txt

RUN_FLAGS  := --threads $(JOB_THREADS) --dataset $(DATASET) --quiet --resume
FT_FLAGS   := --classes $(TARGET_CLASSES) $(call count_flag,$(FT_PER_CLASS),--per-class) --data-seed $(DATA_SEED) \
              --epochs $(FT_EPOCHS) --lr $(FT_LR) --batch-size $(FT_BATCH) --seed $(SEED)
AN_FLAGS   := --threads $(JOB_THREADS) --dataset $(DATASET) --bn-images $(BN_IMAGES) \
              $(call count_flag,$(EVAL_IMAGES),--eval-images)

# --- Pre-trained checkpoints ----------------------------------------------------------
PT     := $(foreach s,$(pt_seeds),$(RUNS)/pretrained/pt-$(s).h5)
PT0    := $(RUNS)/pretrained/pt-0.h5
# pt-0 starts first (it heads the critical path: member 1, then every cycle); the other
# pre-trainings wait for it (order only: they do not depend on its contents).
$(filter-out $(PT0),$(PT)): | $(PT0)
$(RUNS)/pretrained/pt-%.h5: $(SET_PT) | $(BIN)
	$(call drop_stale,$@.resume.h5)
	$(STEP) $(BIN) pretrain --model $(MODEL) --classes $(SOURCE_CLASSES) $(call count_flag,$(PT_PER_CLASS),--per-class) \
	  --epochs $(PT_EPOCHS) --batch-size $(PT_BATCH) --lr $(PT_LR) --seed $* $(RUN_FLAGS) --out $@

# --- Ensembles: one make target per member --------------------------------------------
# Local DE: fine-tunings of pt-0. Its member 1 is member 1 of every SSE/StarSSE cell and of
# Global DE (same start, same seed): those are hard links to it.
LOCAL  := $(RUNS)/local-de
GLOBAL := $(RUNS)/global-de
SCRATCH := $(RUNS)/scratch-de
M1     := $(LOCAL)/member-1.h5

$(LOCAL)/member-%.h5: $(PT0) $(SET_FT) | $(BIN)
	$(call drop_stale,$@.resume.h5)
	$(STEP) $(BIN) ensemble local-de --from $(PT0) -n $(N) --member $* $(FT_FLAGS) $(RUN_FLAGS) --out-dir $(@D)

$(SCRATCH)/member-%.h5: $(SET_FT) | $(BIN)
	$(call drop_stale,$@.resume.h5)
	$(STEP) $(BIN) ensemble scratch-de --model $(MODEL) -n $(N) --member $* $(FT_FLAGS) $(RUN_FLAGS) --out-dir $(@D)

# Global DE member k fine-tunes pt-(k-1); the command reads pt-0 (architecture) and its own.
GLOBAL_FROM := $(wordlist 1,$(N),$(PT))
$(GLOBAL)/member-1.h5: $(M1)
	@mkdir -p $(@D); ln -f $< $@
$(foreach k,$(snapshots),$(eval $(GLOBAL)/member-$(k).h5: $(word $(k),$(PT)) $(PT0) $(SET_FT) | $(BIN)))
$(GLOBAL)/member-%.h5:
	$(call drop_stale,$@.resume.h5)
	$(STEP) $(BIN) ensemble global-de --from $(GLOBAL_FROM) -n $(N) --member $* $(FT_FLAGS) $(RUN_FLAGS) --out-dir $(@D)

# SSE and StarSSE: one folder per sweep cell, $(RUNS)/sweep/<method>/lr<r>_ep<e>.
# SSE member k starts from member k-1, StarSSE member k from member 1. StarSSE member 2 is
# SSE member 2 of the same cell by definition (one cycle from member 1 with seed SEED+1,
# bit-identical), so it is a hard link too.
cell = $(RUNS)/sweep/$(1)/lr$(2)_ep$(3)
define cell_rules
$(call cell,$(1),$(2),$(3))/member-1.h5: $(M1)
	@mkdir -p $$(@D); ln -f $$< $$@
$(foreach k,$(snapshots),
$(call cell,$(1),$(2),$(3))/member-$(k).h5: $(call cell,$(1),$(2),$(3))/member-$(if $(filter sse,$(1)),$(call prev,$(k)),1).h5)
$(call cell,$(1),$(2),$(3))/member-%.h5: $(PT0) $(SET_FT) | $(BIN)
	$$(call drop_stale,$$@.resume.h5)
	$$(STEP) $(BIN) ensemble $(1) --from $(PT0) -n $(N) --member $$* --cycle-lr-ratio $(2) --cycle-epoch-ratio $(3) \
	  $(FT_FLAGS) $(RUN_FLAGS) --out-dir $$(@D)
endef
$(foreach m,sse starsse,$(foreach r,$(SWEEP_LR_RATIOS),$(foreach e,$(SWEEP_EPOCH_RATIOS),\
  $(eval $(call cell_rules,$(m),$(r),$(e))))))
ifneq ($(filter 2,$(snapshots)),)
$(foreach r,$(SWEEP_LR_RATIOS),$(foreach e,$(SWEEP_EPOCH_RATIOS),$(eval \
  $(call cell,starsse,$(r),$(e))/member-2.h5: $(call cell,sse,$(r),$(e))/member-2.h5 ; @ln -f $$< $$@)))
endif

members_of = $(foreach k,$(members),$(1)/member-$(k).h5)
CELLS      := $(foreach m,sse starsse,$(foreach r,$(SWEEP_LR_RATIOS),$(foreach e,$(SWEEP_EPOCH_RATIOS),$(call cell,$(m),$(r),$(e)))))
HSSE       := $(call cell,sse,$(HEADLINE_LR_RATIO),$(HEADLINE_EPOCH_RATIO))
HSTAR      := $(call cell,starsse,$(HEADLINE_LR_RATIO),$(HEADLINE_EPOCH_RATIO))

## checkpoints: pre-trained checkpoints and every ensemble member.
checkpoints: $(PT0) $(M1) $(foreach c,$(CELLS),$(call members_of,$(c))) $(PT) \
             $(foreach d,$(SCRATCH) $(LOCAL) $(GLOBAL),$(call members_of,$(d)))

# --- Barriers: linear interpolation between pairs -------------------------------------
# <name>: A B. Snapshot pairs run from member 1 to the last snapshot of a cell.
maxlr := $(lastword $(SWEEP_LR_RATIOS))
PAIRS := scratch-de local-de global-de sse-lr$(HEADLINE_LR_RATIO) starsse-lr$(HEADLINE_LR_RATIO) \
         $(if $(filter $(maxlr),$(HEADLINE_LR_RATIO)),,sse-lr$(maxlr) starsse-lr$(maxlr))
pair_scratch-de := $(SCRATCH)/member-1.h5 $(SCRATCH)/member-2.h5
pair_local-de   := $(LOCAL)/member-1.h5 $(LOCAL)/member-2.h5
pair_global-de  := $(GLOBAL)/member-1.h5 $(GLOBAL)/member-2.h5
$(foreach r,$(sort $(HEADLINE_LR_RATIO) $(maxlr)),$(foreach m,sse starsse,$(eval \
  pair_$(m)-lr$(r) := $(M1) $(call cell,$(m),$(r),$(HEADLINE_EPOCH_RATIO))/member-$(last).h5)))
INTERP := $(foreach p,$(PAIRS),$(RUNS)/barriers/$(p).h5)
$(RUNS)/barriers/%.h5: $(SET_AN) $(RUNS)/settings/interpolate.txt | $(BIN)
	@mkdir -p $(@D)
	$(call logged,$(STEP) $(BIN) interpolate $(pair_$*) --points $(INTERP_POINTS) $(AN_FLAGS) --out $@)
$(foreach p,$(PAIRS),$(eval $(RUNS)/barriers/$(p).h5: $(pair_$(p))))

# --- Membership: every snapshot of every cell against member 1 --------------------------
cellname = $(subst $(RUNS)/sweep/,,$(1))
MEMBERSHIP := $(foreach c,$(CELLS),$(RUNS)/membership/$(subst /,-,$(call cellname,$(c))).csv)
define membership_rule
$(RUNS)/membership/$(subst /,-,$(call cellname,$(1))).csv: $(call members_of,$(1)) $(SET_AN) $(RUNS)/settings/membership.txt | $(BIN)
	@mkdir -p $$(@D)
	$$(call logged,$$(STEP) $(BIN) membership --reference $(1)/member-1.h5 $(foreach k,$(snapshots),$(1)/member-$(k).h5) \
	  --threshold $(THRESHOLD) --points $(MEMBERSHIP_POINTS) $(AN_FLAGS) --csv $$@)
endef
$(foreach c,$(CELLS),$(eval $(call membership_rule,$(c))))

# --- Landscape grids (planes, simplex): $(1) the results file, $(2) its prerequisites,
# $(3) the command without --out. Written to <file>.part.h5 (resumed if interrupted) and
# renamed when complete. With GRID_SHARDS = N > 1, shard i/N is a step of its own
# (<file>.shard-i.h5) and `basin merge` joins the N shards, byte-identical to one step.
define grid_rules
ifeq ($(GRID_SHARDS),1)
$(1): $(2) | $(BIN)
	@mkdir -p $$(@D)
	$$(call drop_stale,$$@.part.h5)
	$$(call logged,$$(STEP) $(3) --out $$@.part.h5)
	mv -f $$@.part.h5 $$@
else
$(foreach i,$(grid_shards),
$(1:.h5=).shard-$(i).h5: $(2) | $(BIN)
	@mkdir -p $$(@D)
	$$(call drop_stale,$$@.part.h5)
	$$(call logged,$$(STEP) $(3) --shard $(i)/$(GRID_SHARDS) --out $$@.part.h5)
	mv -f $$@.part.h5 $$@
)
$(1): $(foreach i,$(grid_shards),$(1:.h5=).shard-$(i).h5) | $(BIN)
	$$(call logged,$(BIN) merge $$^ --out $$@.part.h5)
	mv -f $$@.part.h5 $$@
endif
endef

# --- Planes: two Local DE members with a Global DE member; member 1 with an SSE and a StarSSE
# snapshot. Written to <plane>.part.h5 (resumed if interrupted), renamed when complete.
PLANES := de $(foreach r,$(PLANE_LR_RATIOS),sse-lr$(r))
plane_de := $(LOCAL)/member-1.h5 $(LOCAL)/member-2.h5 $(GLOBAL)/member-2.h5
proj_de  := $(foreach k,$(filter-out 1 2,$(members)),$(LOCAL)/member-$(k).h5 $(GLOBAL)/member-$(k).h5)
$(foreach r,$(PLANE_LR_RATIOS),$(eval \
  plane_sse-lr$(r) := $(M1) $(call cell,sse,$(r),$(HEADLINE_EPOCH_RATIO))/member-$(last).h5 \
                      $(call cell,starsse,$(r),$(HEADLINE_EPOCH_RATIO))/member-$(last).h5)$(eval \
  proj_sse-lr$(r)  := $(foreach k,$(filter-out 1 $(last),$(members)),$(call cell,sse,$(r),$(HEADLINE_EPOCH_RATIO))/member-$(k).h5 \
                      $(if $(filter 2,$(k)),,$(call cell,starsse,$(r),$(HEADLINE_EPOCH_RATIO))/member-$(k).h5))))
# Short marker labels, in file order (A, B, C, then the projected checkpoints).
labels_de := Local 1,Local 2,Global 2$(foreach k,$(filter-out 1 2,$(members)),$(comma)Local $(k)$(comma)Global $(k))
$(foreach r,$(PLANE_LR_RATIOS),$(eval labels_sse-lr$(r) := member 1,SSE $(last),StarSSE $(last)$(foreach \
  k,$(filter-out 1 $(last),$(members)),$(comma)SSE $(k)$(if $(filter 2,$(k)),,$(comma)StarSSE $(k)))))
PLANE_FILES := $(foreach p,$(PLANES),$(RUNS)/planes/$(p).h5)
$(foreach p,$(PLANES),$(eval $(call grid_rules,$(RUNS)/planes/$(p).h5,\
  $(plane_$(p)) $(proj_$(p)) $(SET_AN) $(RUNS)/settings/plane.txt,\
  $(BIN) plane $(plane_$(p)) $(foreach d,$(proj_$(p)),--project $(d)) --grid $(PLANE_GRID) $(AN_FLAGS))))

# --- Simplex: the triangle of member 1 and two StarSSE snapshots of the headline cell -------
# (convex combinations; the star's snapshots around member 1). Needs N >= 3.
SIMPLEX_CKPTS := $(foreach k,1 2 3,$(HSTAR)/member-$(k).h5)
SIMPLEX_RES ?= $(if $(filter paper,$(PROFILE)),20,8)
$(eval $(call grid_rules,$(RUNS)/simplex/starsse.h5,$(SIMPLEX_CKPTS) $(SET_AN),\
  $(BIN) simplex $(SIMPLEX_CKPTS) --resolution $(SIMPLEX_RES) $(AN_FLAGS)))

# --- Soups of Local DE and of the headline StarSSE cell ---------------------------------
# soup_<method> lists the members; the soup name ends in its kind (-uniform or -greedy).
SOUPS := local-de-uniform local-de-greedy starsse-uniform starsse-greedy
soup_local-de := $(call members_of,$(LOCAL))
soup_starsse  := $(call members_of,$(HSTAR))
soup_members   = $(soup_$(patsubst %-uniform,%,$(patsubst %-greedy,%,$(1))))
SOUP_FILES := $(foreach s,$(SOUPS),$(RUNS)/soups/$(s).h5)
$(RUNS)/soups/%.h5: $(SET_AN) | $(BIN)
	@mkdir -p $(@D)
	$(call logged,$(STEP) $(BIN) soup $(call soup_members,$*) --$(lastword $(subst -, ,$*)) --threads $(JOB_THREADS) \
	  --dataset $(DATASET) --bn-images $(BN_IMAGES) --holdout-per-class $(SOUP_HOLDOUT) --out $@)
$(foreach s,$(SOUPS),$(eval $(RUNS)/soups/$(s).h5: $(call soup_members,$(s))))

# --- Diversity within each method -------------------------------------------------------
DIV_METHODS := scratch-de local-de global-de sse starsse
div_dir_scratch-de := $(SCRATCH)
div_dir_local-de   := $(LOCAL)
div_dir_global-de  := $(GLOBAL)
div_dir_sse        := $(HSSE)
div_dir_starsse    := $(HSTAR)
div_ref_local-de   := $(PT0)
div_ref_sse        := $(PT0)
div_ref_starsse    := $(PT0)
DIVERSITY := $(foreach m,$(DIV_METHODS),$(RUNS)/diversity/$(m).csv)
$(RUNS)/diversity/%.csv: | $(BIN)
	@mkdir -p $(@D)
	$(call logged,$(STEP) $(BIN) diversity $(call members_of,$(div_dir_$*)) $(if $(div_ref_$*),--reference $(div_ref_$*)) \
	  --threads $(JOB_THREADS) --dataset $(DATASET) --csv $@)
$(foreach m,$(DIV_METHODS),$(eval $(RUNS)/diversity/$(m).csv: $(call members_of,$(div_dir_$(m))) $(div_ref_$(m))))

# --- Tables for notebooks (notebooks-data/README.md describes every column) -------------
TABLES := $(DATA)/config.csv $(DATA)/ensembles.csv $(DATA)/sweep_ensembles.csv $(DATA)/sweep.csv \
          $(DATA)/membership.csv $(DATA)/barriers.csv $(DATA)/interpolation.csv $(DATA)/planes.csv \
          $(DATA)/plane_points.csv $(DATA)/soups.csv $(DATA)/diversity.csv
## tables: every CSV table of PROFILE.
tables: $(TABLES)

$(DATA)/config.csv: $(wildcard $(RUNS)/settings/*.txt) $(SET_PT) $(SET_FT) $(SET_AN) $(SET_RP)
	@mkdir -p $(@D)
	@{ echo "setting,value"; \
	  echo "profile,$(PROFILE)"; \
	  echo "dataset,$(DATASET)"; \
	  echo "model,$(MODEL)"; \
	  echo "source_classes,$(subst $(comma), ,$(SOURCE_CLASSES))"; \
	  echo "target_classes,$(subst $(comma), ,$(TARGET_CLASSES))"; \
	  echo "pretrained_checkpoints,$(PT_N)"; \
	  echo "pretrain_per_class,$(PT_PER_CLASS)"; \
	  echo "pretrain_epochs,$(PT_EPOCHS)"; \
	  echo "pretrain_batch,$(PT_BATCH)"; \
	  echo "pretrain_lr,$(PT_LR)"; \
	  echo "finetune_per_class,$(FT_PER_CLASS)"; \
	  echo "data_seed,$(DATA_SEED)"; \
	  echo "finetune_epochs,$(FT_EPOCHS)"; \
	  echo "finetune_lr,$(FT_LR)"; \
	  echo "finetune_batch,$(FT_BATCH)"; \
	  echo "seed,$(SEED)"; \
	  echo "ensemble_size,$(N)"; \
	  echo "sweep_lr_ratios,$(SWEEP_LR_RATIOS)"; \
	  echo "sweep_epoch_ratios,$(SWEEP_EPOCH_RATIOS)"; \
	  echo "headline_lr_ratio,$(HEADLINE_LR_RATIO)"; \
	  echo "headline_epoch_ratio,$(HEADLINE_EPOCH_RATIO)"; \
	  echo "plane_lr_ratios,$(PLANE_LR_RATIOS)"; \
	  echo "plane_grid,$(PLANE_GRID)"; \
	  echo "bn_images,$(BN_IMAGES)"; \
	  echo "eval_images,$(EVAL_IMAGES)"; \
	  echo "interpolation_points,$(INTERP_POINTS)"; \
	  echo "membership_points,$(MEMBERSHIP_POINTS)"; \
	  echo "threshold,$(THRESHOLD)"; \
	  echo "soup_holdout,$(SOUP_HOLDOUT)"; \
	  echo "job_threads,$(JOB_THREADS)"; \
	} > $@.tmp && mv -f $@.tmp $@

$(DATA)/ensembles.csv: $(SET_RP) $(foreach d,$(SCRATCH) $(LOCAL) $(GLOBAL) $(HSSE) $(HSTAR),$(call members_of,$(d))) | $(BIN)
	@mkdir -p $(@D)
	$(STEP) $(BIN) metrics --method scratch-de=$(SCRATCH) --method local-de=$(LOCAL) --method global-de=$(GLOBAL) \
	  --method sse=$(HSSE) --method starsse=$(HSTAR) --dee-reference local-de \
	  --threads $(JOB_THREADS) --dataset $(DATASET) --csv $@ > /dev/null

$(DATA)/sweep_ensembles.csv: $(SET_RP) $(foreach c,$(LOCAL) $(CELLS),$(call members_of,$(c))) | $(BIN)
	@mkdir -p $(@D)
	$(STEP) $(BIN) metrics $(foreach c,$(CELLS),--method $(call cellname,$(c))=$(c)) --dee-reference local-de \
	  --method local-de=$(LOCAL) --threads $(JOB_THREADS) --dataset $(DATASET) --csv $@ > /dev/null

$(DATA)/sweep.csv $(DATA)/membership.csv &: $(SET_RP) $(DATA)/sweep_ensembles.csv $(MEMBERSHIP) | $(BIN)
	$(BIN) report sweep --metrics $(DATA)/sweep_ensembles.csv --membership $(MEMBERSHIP) \
	  --csv $(DATA)/sweep.csv --membership-csv $(DATA)/membership.csv

$(DATA)/barriers.csv $(DATA)/interpolation.csv &: $(SET_RP) $(INTERP) | $(BIN)
	@mkdir -p $(@D)
	$(BIN) report barriers $(foreach p,$(PAIRS),$(p)=$(RUNS)/barriers/$(p).h5) \
	  --csv $(DATA)/barriers.csv --curves-csv $(DATA)/interpolation.csv

$(DATA)/planes.csv $(DATA)/plane_points.csv &: $(SET_RP) $(PLANE_FILES) | $(BIN)
	@mkdir -p $(@D)
	$(BIN) report planes $(foreach p,$(PLANES),$(p)=$(RUNS)/planes/$(p).h5) \
	  --csv $(DATA)/planes.csv --points-csv $(DATA)/plane_points.csv

$(DATA)/soups.csv: $(SET_RP) $(SOUP_FILES) | $(BIN)
	@mkdir -p $(@D)
	$(BIN) report soups $(foreach s,$(SOUPS),$(s)=$(RUNS)/soups/$(s).h5) --csv $@

$(DATA)/diversity.csv: $(SET_RP) $(DIVERSITY) | $(BIN)
	@mkdir -p $(@D)
	$(BIN) report diversity $(foreach m,$(DIV_METHODS),$(m)=$(RUNS)/diversity/$(m).csv) --csv $@

## summary: notebooks-data/summary.md, the headline table and the paper's four findings.
summary: $(DATA)/summary.md
$(DATA)/summary.md: $(SET_RP) $(TABLES) | $(BIN)
	$(BIN) report summary --ensembles $(DATA)/ensembles.csv --barriers $(DATA)/barriers.csv \
	  --soups $(DATA)/soups.csv --sweep $(DATA)/sweep.csv --diversity $(DATA)/diversity.csv \
	  --config $(DATA)/config.csv --headline-lr-ratio $(HEADLINE_LR_RATIO) \
	  --headline-epoch-ratio $(HEADLINE_EPOCH_RATIO) --threshold $(THRESHOLD) \
	  --title "Study summary ($(PROFILE))" --out $@

# ======================================================================================
# Figures (basin plot). Names say what they show.
# ======================================================================================
FIGURES := $(foreach p,$(PLANES),$(PLOTS)/plane-$(p)-test_error.png $(PLOTS)/plane-$(p)-test_loss.png) \
           $(PLOTS)/interpolation.png $(PLOTS)/ensembles-accuracy.png $(PLOTS)/ensembles-nll.png \
           $(foreach m,ensemble_accuracy snapshot_accuracy snapshot_barrier_loss,$(PLOTS)/sweep-$(m).png) \
           $(if $(filter-out 1 2,$(members)),$(PLOTS)/simplex-starsse-test_error.png)
## plots: every figure of PROFILE (needs `basin plot`).
plots: $(FIGURES)

# Fails clearly when the binary has no `plot` command yet.
plot-available: | $(BIN)
	@$(BIN) plot --help > /dev/null 2>&1 || { echo "make plots: this basin has no 'plot' command" \
	  "(the figures need the plot CLI); tables and summary are done: make study" >&2; exit 1; }

$(PLOTS)/plane-%-test_error.png: $(RUNS)/planes/%.h5 | plot-available
	@mkdir -p $(@D)
	$(BIN) plot plane $< --metric test_error --point-labels "$(labels_$*)" -o $@
$(PLOTS)/plane-%-test_loss.png: $(RUNS)/planes/%.h5 | plot-available
	@mkdir -p $(@D)
	$(BIN) plot plane $< --metric test_loss --log --point-labels "$(labels_$*)" -o $@
$(PLOTS)/interpolation.png: $(INTERP) | plot-available
	@mkdir -p $(@D)
	$(BIN) plot interpolation $(INTERP) --labels $(subst $() ,$(comma),$(PAIRS)) -o $@
$(PLOTS)/ensembles-%.png: $(DATA)/ensembles.csv | plot-available
	@mkdir -p $(@D)
	$(BIN) plot ensembles $< --metric $* -o $@
# The sweep over cycle LR ratio x cycle epoch ratio, SSE and StarSSE side by side.
$(PLOTS)/sweep-ensemble_accuracy.png $(PLOTS)/sweep-snapshot_accuracy.png $(PLOTS)/sweep-snapshot_barrier_loss.png: \
  $(PLOTS)/sweep-%.png: $(DATA)/sweep.csv | plot-available
	@mkdir -p $(@D)
	$(BIN) plot sweep $< --metric $* -o $@
$(PLOTS)/simplex-starsse-test_error.png: $(RUNS)/simplex/starsse.h5 | plot-available
	@mkdir -p $(@D)
	$(BIN) plot simplex $< --metric test_error --vertex-labels "member 1,StarSSE 2,StarSSE 3" -o $@

# ======================================================================================
## cli-docs: docs/CLI.md, the --help text of every command (run after changing flags).
cli-docs: $(BIN)
	@subcommands() { $(BIN) help $$1 2>/dev/null | awk '/^SUBCOMMANDS:/ {s = 1; next} s && /^  [a-z]/ {print $$1}'; }; \
	{ echo "# basin command reference"; echo; \
	  echo "Generated by \`make cli-docs\` from \`basin help <command>\` (do not edit by hand)."; echo; \
	  for c in $$(subcommands); do \
	    for s in "" $$(subcommands $$c); do \
	      echo "## basin $$c$${s:+ $$s}"; echo; echo '```'; $(BIN) help $$c $$s; echo '```'; echo; \
	    done; \
	  done; } > docs/CLI.md.tmp && mv -f docs/CLI.md.tmp docs/CLI.md

clean:
	rm -rf .build

## clean-study: remove PROFILE's checkpoints, tables and figures (not the READMEs).
clean-study:
	rm -rf $(RUNS) $(PLOTS)/*.png $(DATA)/*.csv $(DATA)/summary.md
