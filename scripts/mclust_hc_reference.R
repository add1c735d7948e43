# Reference agglomerations from real mclust, for the `hc` tests in
# crates/gmm-core/tests/mclust_reference.rs.
#
# For each data set of scripts/mclust_reference.R (faithful, iris, diabetes)
# and a table without ties (`blobs`: 300 rows of three Gaussian clusters in
# three columns, from set.seed(17); written here as CSV), writes
# tests/data/mclust/hc_<set>.json: the partitions that mclust's `hc()` gives
# on the rows transformed as `Mclust()` transforms them (`use = "SVD"`,
# mclust.options("hcUse")), cut at G = 1..9 by `hclass()`, for the VVV
# agglomeration (Mclust()'s default, mclust.options("hcModelName")) and EII
# (Ward's, which Mclust() uses when there are no more rows than columns),
# and the qclass() partitions of each data set's first column (Mclust()'s
# start for one column). Classes are numbered by their first row, as
# hclass() numbers them.
#
# Run from the repository root, with R and mclust installed (Debian:
# `apt-get install r-base-core r-cran-mclust`; mclust 6.x):
#
#   Rscript scripts/mclust_hc_reference.R
#
# The fixtures are committed; the tests do not need R.

suppressPackageStartupMessages(library(mclust))

out <- "tests/data/mclust"
dir.create(out, recursive = TRUE, showWarnings = FALSE)

set.seed(17)
centers <- rbind(c(0, 0, 0), c(4, 1, -2), c(-3, 5, 2))
blobs <- do.call(rbind, lapply(1:3, function(k) {
  sweep(matrix(rnorm(300, sd = 1 + 0.3 * k), ncol = 3), 2, centers[k, ], "+")
}))
colnames(blobs) <- c("x", "y", "z")
lines <- c(paste(colnames(blobs), collapse = ","),
           apply(blobs, 1, function(r) paste(sprintf("%.17g", r), collapse = ",")))
writeLines(lines, file.path(out, "blobs.csv"))

data(diabetes, package = "mclust")
sets <- list(
  faithful = faithful,
  iris = iris[, 1:4],
  diabetes = diabetes[, c("glucose", "insulin", "sspg")],
  blobs = blobs
)

partitions <- function(cl) {
  paste0("{", paste(sapply(colnames(cl), function(g) {
    paste0("\"", g, "\": [", paste(cl[, g] - 1, collapse = ", "), "]")
  }), collapse = ", "), "}")
}

for (set in names(sets)) {
  X <- as.matrix(sets[[set]])
  fields <- c()
  for (model in c("VVV", "EII")) {
    h <- hc(X, modelName = model, use = "SVD")
    fields <- c(fields, paste0("\"", model, "\": ", partitions(hclass(h, 1:9))))
  }
  q <- sapply(1:9, function(g) mclust:::qclass(X[, 1], g))
  colnames(q) <- as.character(1:9)
  fields <- c(fields, paste0("\"qclass\": ", partitions(q)))
  json <- paste0(
    "{\"dataset\": \"", file.path(out, paste0(set, ".csv")), "\"",
    ", \"mclust_version\": \"", as.character(packageVersion("mclust")), "\"",
    ", \"use\": \"SVD\", ", paste(fields, collapse = ", "), "}"
  )
  writeLines(json, file.path(out, paste0("hc_", set, ".json")))
  cat(sprintf("hc partitions of %s written\n", set))
}
