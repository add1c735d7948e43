# Reference fits from real mclust, for crates/gmm-core/tests/mclust_reference.rs.
#
# Writes tests/data/mclust/: the data sets as CSV (R's `faithful`, the four
# measurements of `iris`, mclust's `diabetes`), and one JSON fixture per data
# set, mclust model (all fourteen families; four of them have scikit-learn's
# names in gmm: VVV = full, VVI = diag, VII = spherical, EEE = tied) and
# number of components G:
#
#   - `init`: the starting parameters, mclust's M-step (`mstep`) from the
#     partition of Mclust()'s default start (`hclass(hc(X, "VVV"), G)`), in
#     scikit-learn's shapes (weights, means G x d, covariances in the
#     storage gmm holds the family in: G x d x d for the families with a
#     general orientation, G x d for the diagonal ones, G for EII and VII,
#     d x d for EEE);
#   - `result`: `em()` from those parameters run to convergence (relative
#     log-likelihood change below 1e-16, at most 100,000 iterations; the
#     iterative M-steps of VEI, VEE, EVE, VVE, VEV to a relative change
#     below 1e-13 instead of the default sqrt(eps)): the
#     parameters in the same shapes, the log-likelihood, the BIC as mclust
#     computes it (`bic()`, 2 log L - p ln n, its parameter count `npar`),
#     and ICL as `icl()` computes it (BIC plus twice the log posterior of
#     each row's most probable component).
#
# gmm runs EM from the same parameters (reg_covar 0) to the same fixed point;
# the test compares parameters to 1e-6 (each entry, relative), the
# log-likelihood and BIC to 1e-8 and ICL to 1e-7, relative.
#
# Run from the repository root, with R and mclust installed (Debian:
# `apt-get install r-base-core r-cran-mclust`; mclust 6.x):
#
#   Rscript scripts/mclust_reference.R
#
# The fixtures are committed; the tests do not need R.

suppressPackageStartupMessages(library(mclust))

out <- "tests/data/mclust"
dir.create(out, recursive = TRUE, showWarnings = FALSE)

source("scripts/mclust_common.R")

iterations <- function(fit) {
  info <- attr(fit, "info")
  if (is.null(info)) "null" else as.character(info[[1]])
}

write_csv <- function(X, name) {
  path <- file.path(out, paste0(name, ".csv"))
  m <- as.matrix(X)
  lines <- c(paste(colnames(m), collapse = ","),
             apply(m, 1, function(r) paste(sprintf("%.17g", r), collapse = ",")))
  writeLines(lines, path)
  path
}

data(diabetes, package = "mclust")
sets <- list(
  faithful = faithful,
  iris = iris[, 1:4],
  diabetes = diabetes[, c("glucose", "insulin", "sspg")]
)
# gmm's name of each family: scikit-learn's for four, mclust's for the rest.
models <- c(EII = "EII", VII = "spherical", EEI = "EEI", VEI = "VEI",
            EVI = "EVI", VVI = "diag", EEE = "tied", VEE = "VEE", EVE = "EVE",
            VVE = "VVE", EEV = "EEV", VEV = "VEV", EVV = "EVV", VVV = "full")
four <- c("VVV", "VVI", "VII", "EEE")

for (set in names(sets)) {
  X <- as.matrix(sets[[set]])
  colnames(X) <- gsub("[^A-Za-z0-9_]", "_", colnames(X))
  csv <- write_csv(X, set)
  n <- nrow(X); d <- ncol(X)
  # Mclust()'s default start: agglomeration on the SVD-transformed data
  # (mclust.options("hcUse") = "SVD").
  hcp <- hc(X, modelName = "VVV", use = mclust.options("hcUse"))
  for (G in 2:3) {
    cl <- hclass(hcp, G)
    z0 <- unmap(cl)
    for (model in names(models)) {
      ms <- mstep(X, modelName = model, z = z0)
      fit <- em(X, modelName = model, parameters = ms$parameters,
                control = emControl(tol = c(1e-16, 1e-13),
                                    itmax = c(100000, .Machine$integer.max)))
      if (!is.finite(fit$loglik)) {
        cat(sprintf("%s %s G=%d: no fit, skipped\n", set, model, G))
        next
      }
      b <- bic(model, fit$loglik, n, d, G)
      np <- nMclustParams(model, d, G)
      map <- sum(log(apply(fit$z, 1, max)))
      icl_value <- b + 2 * map
      name <- sprintf("%s_%s_G%d", set, model, G)
      json <- paste0(
        fixture_head(csv, X, model, models[[model]], G),
        ", \"init\": ", parameters_json(model, ms$parameters, G, d),
        ", \"result\": {\"parameters\": ", parameters_json(model, fit$parameters, G, d),
        ", \"loglik\": ", sprintf("%.17g", fit$loglik),
        ", \"bic\": ", sprintf("%.17g", b),
        ", \"icl\": ", sprintf("%.17g", icl_value),
        ", \"n_parameters\": ", np,
        ", \"iterations\": ", iterations(fit),
        "}}"
      )
      writeLines(json, file.path(out, paste0(name, ".json")))
      cat(sprintf("%s: loglik %.10f, BIC %.6f, ICL %.6f\n", name, fit$loglik, b, icl_value))
    }
  }
}

# Model selection as Mclust() makes it, over G = 1..9 and the four
# families gmm had first (select_<set>.json) or all fourteen
# (select_all_<set>.json), from its default start: the winner and its BIC,
# for tests/e2e/select.rs (gmm select must pick the same model or one with a
# higher BIC).
for (set in names(sets)) {
  X <- as.matrix(sets[[set]])
  for (grid in c("four", "all")) {
    families <- if (grid == "four") four else names(models)
    m <- Mclust(X, G = 1:9, modelNames = families, verbose = FALSE)
    json <- paste0(
      "{\"dataset\": \"", file.path(out, paste0(set, ".csv")), "\"",
      ", \"mclust_version\": \"", as.character(packageVersion("mclust")), "\"",
      ", \"mclust_model\": \"", m$modelName, "\"",
      ", \"covariance_type\": \"", models[[m$modelName]], "\"",
      ", \"n_components\": ", m$G,
      ", \"bic\": ", sprintf("%.17g", m$bic),
      ", \"loglik\": ", sprintf("%.17g", m$loglik), "}"
    )
    prefix <- if (grid == "four") "select_" else "select_all_"
    writeLines(json, file.path(out, paste0(prefix, set, ".json")))
    cat(sprintf("Mclust() over %s families on %s: %s, G = %d, BIC %.6f\n",
                grid, set, m$modelName, m$G, m$bic))
  }
}
