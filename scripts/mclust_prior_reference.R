# Reference fits with mclust's conjugate prior, for
# crates/gmm-core/tests/mclust_prior.rs.
#
# For R's `faithful`, the four measurements of `iris` and mclust's
# `diabetes` (the CSVs scripts/mclust_reference.R writes), each of the ten
# families mclust has a prior for, and G = 2, 3: `em()` with
# `prior = priorControl()` (mclust's defaultPrior: shrinkage 0.01, mean the
# column means, dof d + 2, scale var(X) / G^(2/d), or its mean diagonal for
# the diagonal families) from the same starting parameters as the fixtures
# without a prior (`init`: mclust's M-step from `hclass(hc(X), G)`), run to
# a relative log-likelihood change below 1e-16 (iterative M-steps to
# 1e-13). Writes tests/data/mclust/prior/<set>_<model>_G<G>.json: the
# prior's parameters, the start, the result's parameters, log-likelihood
# and BIC (mclust's, from the log-likelihood at the posterior mode).
# Also writes prior/select_<set>.json: what `Mclust(X, G = 1:9, prior =
# priorControl())` picks over the families that have a prior.
#
# Run from the repository root after scripts/mclust_reference.R, with R and
# mclust installed (Debian: `apt-get install r-base-core r-cran-mclust`):
#
#   Rscript scripts/mclust_prior_reference.R
#
# The fixtures are committed; the tests do not need R.

suppressPackageStartupMessages(library(mclust))

src <- "tests/data/mclust"
out <- file.path(src, "prior")
dir.create(out, recursive = TRUE, showWarnings = FALSE)

source("scripts/mclust_common.R")

models <- c(EII = "EII", VII = "spherical", EEI = "EEI", VEI = "VEI",
            EVI = "EVI", VVI = "diag", EEE = "tied", EEV = "EEV", VEV = "VEV",
            VVV = "full")
sets <- c("faithful", "iris", "diabetes")

for (set in sets) {
  csv <- file.path(src, paste0(set, ".csv"))
  X <- as.matrix(read.csv(csv))
  n <- nrow(X); d <- ncol(X)
  hcp <- hc(X, modelName = "VVV", use = mclust.options("hcUse"))
  for (G in 2:3) {
    z0 <- unmap(hclass(hcp, G))
    for (model in names(models)) {
      ms <- mstep(X, modelName = model, z = z0)
      fit <- em(X, modelName = model, parameters = ms$parameters,
                prior = priorControl(),
                control = emControl(tol = c(1e-16, 1e-13),
                                    itmax = c(100000, .Machine$integer.max)))
      if (!is.finite(fit$loglik)) {
        cat(sprintf("%s %s G=%d: no fit, skipped\n", set, model, G))
        next
      }
      pp <- defaultPrior(X, G, model)
      b <- bic(model, fit$loglik, n, d, G)
      json <- paste0(
        fixture_head(csv, X, model, models[[model]], G),
        ", \"prior\": {\"shrinkage\": ", sprintf("%.17g", pp$shrinkage),
        ", \"mean\": ", num(pp$mean), ", \"dof\": ", sprintf("%.17g", pp$dof),
        ", \"scale\": ", if (is.matrix(pp$scale)) matrix_rows(pp$scale) else num(pp$scale), "}",
        ", \"init\": ", parameters_json(model, ms$parameters, G, d),
        ", \"result\": {\"parameters\": ", parameters_json(model, fit$parameters, G, d),
        ", \"loglik\": ", sprintf("%.17g", fit$loglik),
        ", \"bic\": ", sprintf("%.17g", b), "}}"
      )
      writeLines(json, file.path(out, sprintf("%s_%s_G%d.json", set, model, G)))
      cat(sprintf("%s %s G=%d: loglik %.10f\n", set, model, G, fit$loglik))
    }
  }
  m <- Mclust(X, G = 1:9, prior = priorControl(), verbose = FALSE)
  json <- paste0(
    "{\"dataset\": \"", csv, "\"",
    ", \"mclust_version\": \"", as.character(packageVersion("mclust")), "\"",
    ", \"mclust_model\": \"", m$modelName, "\"",
    ", \"covariance_type\": \"", models[[m$modelName]], "\"",
    ", \"n_components\": ", m$G,
    ", \"bic\": ", sprintf("%.17g", m$bic),
    ", \"loglik\": ", sprintf("%.17g", m$loglik), "}"
  )
  writeLines(json, file.path(out, paste0("select_", set, ".json")))
  cat(sprintf("Mclust() with the prior on %s: %s, G = %d, BIC %.6f\n", set, m$modelName, m$G, m$bic))
}
