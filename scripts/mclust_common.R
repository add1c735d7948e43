# Shared by scripts/mclust_reference.R, scripts/mclust_prior_reference.R and
# scripts/mclust_noise_reference.R:
# numbers as JSON with all 17 digits, and an mclust fit's parameters in the
# shapes of the storage gmm holds each family in (scikit-learn's shapes:
# weights, means G x d, covariances G x d x d for the families with a
# general orientation, G x d for the diagonal ones, G for EII and VII,
# d x d for EEE).

num <- function(x) {
  if (length(x) == 0) return("[]")
  paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
}
matrix_rows <- function(m) {
  paste0("[", paste(apply(m, 1, num), collapse = ", "), "]")
}

storage <- c(EII = "spherical", VII = "spherical", EEI = "diag", VEI = "diag",
             EVI = "diag", VVI = "diag", EEE = "tied", VEE = "full",
             EVE = "full", VVE = "full", EEV = "full", VEV = "full",
             EVV = "full", VVV = "full")
covariances <- function(model, variance, G, d) {
  sigma <- variance$sigma
  switch(storage[[model]],
    full = paste0("[", paste(sapply(1:G, function(k) matrix_rows(sigma[, , k])), collapse = ", "), "]"),
    diag = paste0("[", paste(sapply(1:G, function(k) num(diag(sigma[, , k]))), collapse = ", "), "]"),
    spherical = num(sapply(1:G, function(k) sigma[1, 1, k])),
    tied = matrix_rows(sigma[, , 1])
  )
}

# The first keys of a fixture: its data, mclust's model and gmm's name for
# it, G, and mclust's version (the caller closes the object).
fixture_head <- function(csv, X, model, covariance_type, G) {
  paste0(
    "{\"dataset\": \"", csv, "\"",
    ", \"columns\": [", paste0("\"", colnames(X), "\"", collapse = ", "), "]",
    ", \"mclust_model\": \"", model, "\"",
    ", \"covariance_type\": \"", covariance_type, "\"",
    ", \"n_components\": ", G,
    ", \"mclust_version\": \"", as.character(packageVersion("mclust")), "\""
  )
}

parameters_json <- function(model, p, G, d) {
  means <- t(matrix(p$mean, nrow = d))
  paste0(
    "{\"weights\": ", num(p$pro),
    ", \"means\": ", matrix_rows(means),
    ", \"covariances\": ", covariances(model, p$variance, G, d), "}"
  )
}
