# Reference fits with mclust's noise component, for
# crates/gmm-core/tests/mclust_noise.rs.
#
# Data sets: R's `faithful`, the four measurements of `iris`, mclust's
# `diabetes` (the CSVs scripts/mclust_reference.R writes) and
# `faithful_noisy.csv`, written here: faithful with 60 rows drawn uniformly
# over its bounding box widened by a tenth on each side (set.seed(0)).
#
# For each data set, each of the fourteen families and G = 2, 3:
#   - the initial noise set: the tenth of the rows farthest from the column
#     means in the data's Mahalanobis distance (`cov(X)`), ties to the
#     lower row;
#   - `Vinv`: mclust's default, `hypvol(X, reciprocal = TRUE)` (the
#     reciprocal of the smaller of the bounding box's and the principal
#     components' box's volumes);
#   - `init`: the start mclust's `Mclust(X, initialization = list(noise =
#     ...))` takes, the family's M-step (`mstep`) from `hclass(hc(X[-noise,
#     ]), G)` on the rows not in the noise set, the Gaussian weights times
#     the share of those rows, the noise weight the noise set's share;
#   - `result`: `me()` from that partition with the noise column
#     (`Vinv`), run to a relative log-likelihood change below 1e-16
#     (iterative M-steps to 1e-13): the parameters, the noise weight, the
#     log-likelihood and the BIC (`bic(..., noise = TRUE)`: two more
#     parameters than without noise, mclust's count);
#   - with mclust's conjugate prior (`prior = priorControl()`) as well,
#     for the ten families that have one, on faithful and faithful_noisy:
#     noise/prior/.
#
# Run from the repository root after scripts/mclust_reference.R, with R and
# mclust installed (Debian: `apt-get install r-base-core r-cran-mclust`):
#
#   Rscript scripts/mclust_noise_reference.R
#
# The fixtures are committed; the tests do not need R.

suppressPackageStartupMessages(library(mclust))

src <- "tests/data/mclust"
out <- file.path(src, "noise")
dir.create(out, recursive = TRUE, showWarnings = FALSE)

source("scripts/mclust_common.R")

models <- c(EII = "EII", VII = "spherical", EEI = "EEI", VEI = "VEI",
            EVI = "EVI", VVI = "diag", EEE = "tied", VEE = "VEE",
            EVE = "EVE", VVE = "VVE", EEV = "EEV", VEV = "VEV", EVV = "EVV",
            VVV = "full")

noisy <- function() {
  X <- as.matrix(read.csv(file.path(src, "faithful.csv")))
  r <- apply(X, 2, range)
  w <- r[2, ] - r[1, ]
  set.seed(0)
  U <- sapply(1:ncol(X), function(j) runif(60, r[1, j] - w[j] / 10, r[2, j] + w[j] / 10))
  colnames(U) <- colnames(X)
  Y <- rbind(X, U)
  path <- file.path(src, "faithful_noisy.csv")
  writeLines(c(paste(colnames(Y), collapse = ","),
               apply(Y, 1, function(r) paste(sprintf("%.17g", r), collapse = ","))), path)
}
noisy()

# The tenth of the rows farthest from the column means, Mahalanobis
# distance (ties to the lower row): the initial noise set.
noise_set <- function(X) {
  n <- nrow(X)
  m2 <- mahalanobis(X, colMeans(X), cov(X))
  sort(order(-m2, seq_len(n))[seq_len(n %/% 10)])
}

# `me()` with the noise from the start `Mclust(X, initialization =
# list(noise = noise))` takes, as a fixture in `dir` (NULL prior: none).
write_fit <- function(X, csv, set, model, G, noise, Vinv, hcp, prior, dir) {
  n <- nrow(X); d <- ncol(X)
  z <- matrix(0, n, G + 1)
  z[-noise, 1:G] <- unmap(hclass(hcp, G))
  z[noise, G + 1] <- 1
  ms <- mstep(X[-noise, ], modelName = model, z = z[-noise, 1:G])
  start <- ms$parameters
  start$pro <- start$pro * (n - length(noise)) / n
  fit <- me(X, modelName = model, z = z, Vinv = Vinv, prior = prior,
            control = emControl(tol = c(1e-16, 1e-13),
                                itmax = c(100000, .Machine$integer.max)))
  what <- sprintf("%s %s G=%d%s", set, model, G, if (is.null(prior)) "" else " with the prior")
  if (!is.finite(fit$loglik)) {
    cat(what, ": no fit, skipped\n")
    return(invisible())
  }
  p <- fit$parameters
  gauss <- p; gauss$pro <- p$pro[1:G]
  b <- bic(model, fit$loglik, n, d, G, noise = TRUE)
  json <- paste0(
    fixture_head(csv, X, model, models[[model]], G),
    ", \"noise_rows\": ", num(noise - 1),
    ", \"vinv\": ", sprintf("%.17g", Vinv),
    ", \"init\": ", parameters_json(model, start, G, d),
    ", \"init_noise_weight\": ", sprintf("%.17g", length(noise) / n),
    ", \"result\": {\"parameters\": ", parameters_json(model, gauss, G, d),
    ", \"noise_weight\": ", sprintf("%.17g", p$pro[G + 1]),
    ", \"loglik\": ", sprintf("%.17g", fit$loglik),
    ", \"bic\": ", sprintf("%.17g", b), "}}"
  )
  writeLines(json, file.path(dir, sprintf("%s_%s_G%d.json", set, model, G)))
  cat(sprintf("%s: loglik %.10f noise %.4f\n", what, fit$loglik, p$pro[G + 1]))
}

# Every family without a prior, and the ten with one with mclust's
# conjugate prior (`prior = priorControl()`) on faithful and its noisy
# copy (noise/prior/).
prior_models <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "EEV", "VEV", "VVV")
dir.create(file.path(out, "prior"), showWarnings = FALSE)
for (set in c("faithful", "iris", "diabetes", "faithful_noisy")) {
  csv <- file.path(src, paste0(set, ".csv"))
  X <- as.matrix(read.csv(csv))
  noise <- noise_set(X)
  Vinv <- hypvol(X, reciprocal = TRUE)
  hcp <- hc(X[-noise, ], modelName = "VVV", use = mclust.options("hcUse"))
  for (G in 2:3) {
    for (model in names(models)) {
      write_fit(X, csv, set, model, G, noise, Vinv, hcp, NULL, out)
    }
    if (set %in% c("faithful", "faithful_noisy")) {
      for (model in prior_models) {
        write_fit(X, csv, set, model, G, noise, Vinv, hcp, priorControl(),
                  file.path(out, "prior"))
      }
    }
  }
}

# What `Mclust(X, G = 1:9, initialization = list(noise = ...))` picks over
# the fourteen families on faithful with uniform rows, from the same noise
# set (G = 0, a model of noise alone, which gmm does not fit, left out):
# noise/select_faithful_noisy.json.
X <- as.matrix(read.csv(file.path(src, "faithful_noisy.csv")))
m <- Mclust(X, G = 1:9, initialization = list(noise = noise_set(X)), verbose = FALSE)
json <- paste0(
  "{\"dataset\": \"", file.path(src, "faithful_noisy.csv"), "\"",
  ", \"mclust_version\": \"", as.character(packageVersion("mclust")), "\"",
  ", \"mclust_model\": \"", m$modelName, "\"",
  ", \"covariance_type\": \"", models[[m$modelName]], "\"",
  ", \"n_components\": ", m$G,
  ", \"noise_weight\": ", sprintf("%.17g", m$parameters$pro[m$G + 1]),
  ", \"bic\": ", sprintf("%.17g", m$bic),
  ", \"loglik\": ", sprintf("%.17g", m$loglik), "}"
)
writeLines(json, file.path(out, "select_faithful_noisy.json"))
cat(sprintf("Mclust() with noise on faithful_noisy: %s, G = %d, BIC %.6f\n", m$modelName, m$G, m$bic))
