//! Datasets over shared values read as owned ones.

use std::sync::Arc;

use gmm_core::{Dataset, UNLABELED};
use ndarray::Array2;

#[test]
fn shared_values_read_as_owned_ones() {
    let values = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let owned = Dataset::from_row_major(values.clone(), 2)
        .unwrap()
        .with_weights(vec![1.0, 0.5, 2.0])
        .unwrap()
        .with_labels(vec![0, UNLABELED, 1], 2)
        .unwrap();
    let shared = Dataset::from_shared(Arc::new(values.clone()), 2)
        .unwrap()
        .with_shared_weights(Arc::new(vec![1.0, 0.5, 2.0]))
        .unwrap()
        .with_shared_labels(Arc::new(vec![0, UNLABELED, 1]), 2)
        .unwrap();
    assert!(shared.is_shared() && !owned.is_shared());
    assert_eq!(shared, owned);
    assert_eq!(shared.view().values(), owned.view().values());
    assert_eq!(shared.view().label(2), Some(1));
    // A sliced array is its own rows, not its buffer's.
    let grid = Array2::from_shape_fn((5, 2), |(i, j)| (10 * i + j) as f64);
    let tail = Dataset::new(grid.clone().slice_move(ndarray::s![3.., ..]));
    assert_eq!(tail.view().values().to_vec(), vec![30.0, 31.0, 40.0, 41.0]);
    let head = Dataset::new(grid.clone().slice_move(ndarray::s![..2, ..]));
    assert_eq!(head.view().values().to_vec(), vec![0.0, 1.0, 10.0, 11.0]);
    let cols = Dataset::new(grid.slice_move(ndarray::s![1..3, 1..]));
    assert_eq!(cols.view().values().to_vec(), vec![11.0, 21.0]);
    assert!(Dataset::from_shared(Arc::new(vec![1.0; 5]), 2).is_err());
    let short = Dataset::from_shared(Arc::new(vec![1.0; 4]), 2).unwrap();
    assert!(short.with_shared_weights(Arc::new(vec![1.0])).is_err());
}
