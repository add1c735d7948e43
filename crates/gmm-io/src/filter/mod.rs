//! `--filter`: which rows a job reads. Conditions on the partition
//! columns of a dataset (its `key=value` directories) are decided from the
//! paths, and the files left out are never opened; conditions on the
//! files' own columns are decided row by row as batches are read, after
//! Parquet row groups whose statistics rule every row out are skipped.
//!
//! The language: comparisons of a partition column with a value,
//! `day >= '2026-11-01'`, `region = "eu"`, `year != 2024`, with `=` (or
//! `==`), `!=` (or `<>`), `<`, `<=`, `>`, `>=`; `col in ('a', 'b')`;
//! `col is null`, `col is not null`; combined with `and`, `or`, `not` and
//! parentheses. Text is quoted with `'` or `"`; a column of numbers
//! compares as numbers, any other as text (dates as their ISO text). A null
//! value satisfies only `is null` (and its negations), as in SQL.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Scalar, StringArray};
use arrow::datatypes::DataType;

use crate::partitions::Partitions;

mod parse;
use parse::{Parser, tokenize};

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    text: String,
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(String, Op, Literal),
    In(String, Vec<Literal>),
    IsNull(String, bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Text(String),
    Number(String),
}

impl Literal {
    fn text(&self) -> &str {
        match self {
            Literal::Text(t) | Literal::Number(t) => t,
        }
    }
}

impl Filter {
    /// Parses `text`; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let tokens = tokenize(text)?;
        let mut p = Parser {
            tokens,
            at: 0,
            depth: 0,
        };
        let expr = p.or()?;
        if p.at < p.tokens.len() {
            return Err(format!(
                "unexpected {} after a complete condition",
                p.describe()
            ));
        }
        Ok(Filter {
            text: text.to_string(),
            expr,
        })
    }

    /// The filter as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The columns the filter names, in order of appearance.
    pub fn columns(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.expr.columns(&mut out);
        out
    }

    /// Whether file `file` of `parts` passes; every column it names is a
    /// partition key.
    #[cfg(test)]
    pub(crate) fn keeps(&self, parts: &Partitions, file: usize) -> Result<bool, String> {
        Ok(self.expr.eval3(parts, file)? == Some(true))
    }

    /// Whether file `file` may hold rows that pass, from its partition
    /// values alone (the other columns unknown).
    pub(crate) fn may_keep_file(&self, parts: &Partitions, file: usize) -> Result<bool, String> {
        let v = self.expr.eval3(parts, file)?;
        // Partition columns alone decide (a null value decides no): only
        // a true condition keeps the file. With columns of the files'
        // data, their rows decide unless the file is ruled out.
        Ok(if self.columns().iter().all(|c| parts.key(c).is_some()) {
            v == Some(true)
        } else {
            v != Some(false)
        })
    }

    /// The rows of a batch that pass (`column` gives a column of the
    /// batch by name, partition columns included).
    pub(crate) fn row_mask(
        &self,
        rows: usize,
        column: &mut dyn FnMut(&str) -> Result<ArrayRef, String>,
    ) -> Result<BooleanArray, String> {
        self.expr.mask(rows, column)
    }

    /// Whether a row group may hold rows that pass, by its statistics
    /// (`stats` gives them for a column, when there are usable ones).
    pub(crate) fn may_keep_group(&self, stats: &dyn Fn(&str) -> Option<Range>) -> bool {
        self.expr.may_keep(stats) != Some(false)
    }
}

/// The smallest and largest values of a column in a row group, and whether
/// it holds nulls and values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Range {
    pub min: Bound,
    pub max: Bound,
    pub nulls: bool,
    pub values: bool,
}

/// A statistic's value: a number, or text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Bound {
    Number(f64),
    Text(String),
}

/// The literal as a number, or a message for column `column`.
fn number(column: &str, lit: &Literal) -> Result<f64, String> {
    lit.text()
        .parse::<f64>()
        .ok()
        .filter(|v| !v.is_nan())
        .ok_or_else(|| {
            format!(
                "column `{column}` holds numbers; `{}` is not one",
                lit.text()
            )
        })
}

fn compare_arrays(
    column: &str,
    a: &ArrayRef,
    op: Op,
    lit: &Literal,
) -> Result<BooleanArray, String> {
    use arrow::compute::kernels::cmp;
    let cast_err = |e: arrow::error::ArrowError| format!("column `{column}`: {e}");
    // Numbers (dictionaries of them too) compare as IEEE floats: a NaN
    // passes nothing, as a null, and -0.0 equals 0.0, as row-group
    // statistics order them (Arrow's kernels order floats totally).
    if crate::column_types::is_numeric(a.data_type()) {
        let v = number(column, lit)?;
        let x = arrow::compute::cast(a, &DataType::Float64).map_err(cast_err)?;
        let x = x
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("cast to f64");
        let pass = |x: f64| match op {
            Op::Eq => x == v,
            Op::Ne => x != v,
            Op::Lt => x < v,
            Op::Le => x <= v,
            Op::Gt => x > v,
            Op::Ge => x >= v,
        };
        return Ok(x
            .iter()
            .map(|x| x.filter(|x| !x.is_nan()).map(pass))
            .collect());
    }
    let left = arrow::compute::cast(a, &DataType::Utf8).map_err(|_| {
        format!(
            "column `{column}` of type {} cannot be compared with a value",
            a.data_type()
        )
    })?;
    let right = Scalar::new(Arc::new(StringArray::from(vec![lit.text()])) as ArrayRef);
    match op {
        Op::Eq => cmp::eq(&left, &right),
        Op::Ne => cmp::neq(&left, &right),
        Op::Lt => cmp::lt(&left, &right),
        Op::Le => cmp::lt_eq(&left, &right),
        Op::Gt => cmp::gt(&left, &right),
        Op::Ge => cmp::gt_eq(&left, &right),
    }
    .map_err(cast_err)
}

/// `a op b` for two bounds of one kind; `None` when the kinds differ.
fn order(a: &Bound, b: &Bound) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Bound::Number(x), Bound::Number(y)) => x.partial_cmp(y),
        (Bound::Text(x), Bound::Text(y)) => Some(x.as_str().cmp(y.as_str())),
        _ => None,
    }
}

fn bound_of(r: &Range, lit: &Literal) -> Option<Bound> {
    match r.min {
        Bound::Number(_) => lit.text().parse::<f64>().ok().map(Bound::Number),
        Bound::Text(_) => Some(Bound::Text(lit.text().to_string())),
    }
}

impl Expr {
    /// Three-valued (Kleene) logic on a file's partition values: `None`
    /// where a column of the files' data decides.
    fn eval3(&self, parts: &Partitions, file: usize) -> Result<Option<bool>, String> {
        Ok(match self {
            Expr::Or(a, b) => match (a.eval3(parts, file)?, b.eval3(parts, file)?) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Expr::And(a, b) => match (a.eval3(parts, file)?, b.eval3(parts, file)?) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Expr::Not(a) => a.eval3(parts, file)?.map(|v| !v),
            Expr::Compare(c, _, _) | Expr::In(c, _) | Expr::IsNull(c, _) => match parts.key(c) {
                Some(_) => self.leaf(parts, file)?,
                None => None,
            },
        })
    }

    /// A condition on one partition column for file `file`: `None` for a
    /// comparison with a null value.
    fn leaf(&self, parts: &Partitions, file: usize) -> Result<Option<bool>, String> {
        let value = |c: &str| {
            let k = parts.key(c).expect("a partition column");
            let integer = parts.fields[k].data_type().is_integer();
            (parts.value(file, k), integer)
        };
        Ok(match self {
            Expr::IsNull(c, null) => Some(value(c).0.is_none() == *null),
            Expr::Compare(c, op, lit) => match value(c) {
                (None, _) => None,
                (Some(v), integer) => {
                    let ord = compare(c, v, lit, integer)?;
                    Some(match op {
                        Op::Eq => ord.is_eq(),
                        Op::Ne => ord.is_ne(),
                        Op::Lt => ord.is_lt(),
                        Op::Le => ord.is_le(),
                        Op::Gt => ord.is_gt(),
                        Op::Ge => ord.is_ge(),
                    })
                }
            },
            Expr::In(c, lits) => match value(c) {
                (None, _) => None,
                (Some(v), integer) => {
                    let mut any = false;
                    for lit in lits {
                        any |= compare(c, v, lit, integer)?.is_eq();
                    }
                    Some(any)
                }
            },
            _ => unreachable!("a leaf"),
        })
    }

    fn mask(
        &self,
        rows: usize,
        column: &mut dyn FnMut(&str) -> Result<ArrayRef, String>,
    ) -> Result<BooleanArray, String> {
        use arrow::compute::kernels::boolean;
        let e = |e: arrow::error::ArrowError| e.to_string();
        Ok(match self {
            Expr::Or(a, b) => {
                boolean::or_kleene(&a.mask(rows, column)?, &b.mask(rows, column)?).map_err(e)?
            }
            Expr::And(a, b) => {
                boolean::and_kleene(&a.mask(rows, column)?, &b.mask(rows, column)?).map_err(e)?
            }
            Expr::Not(a) => boolean::not(&a.mask(rows, column)?).map_err(e)?,
            Expr::IsNull(c, true) => arrow::compute::is_null(column(c)?.as_ref()).map_err(e)?,
            Expr::IsNull(c, false) => {
                arrow::compute::is_not_null(column(c)?.as_ref()).map_err(e)?
            }
            Expr::Compare(c, op, lit) => compare_arrays(c, &column(c)?, *op, lit)?,
            Expr::In(c, lits) => {
                let a = column(c)?;
                let mut any = BooleanArray::from(vec![false; rows]);
                for lit in lits {
                    any = boolean::or_kleene(&any, &compare_arrays(c, &a, Op::Eq, lit)?)
                        .map_err(e)?;
                }
                any
            }
        })
    }

    /// Whether a row group may hold rows that pass: `Some(false)` only
    /// when its statistics rule every row out.
    fn may_keep(&self, stats: &dyn Fn(&str) -> Option<Range>) -> Option<bool> {
        match self {
            Expr::Or(a, b) => match (a.may_keep(stats), b.may_keep(stats)) {
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Expr::And(a, b) => match (a.may_keep(stats), b.may_keep(stats)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                _ => None,
            },
            // What a negation keeps is not bounded by the statistics.
            Expr::Not(_) => None,
            Expr::IsNull(c, null) => {
                let r = stats(c)?;
                (!(if *null { r.nulls } else { r.values })).then_some(false)
            }
            Expr::Compare(c, op, lit) => {
                let r = stats(c)?;
                if !r.values {
                    return Some(false);
                }
                let v = bound_of(&r, lit)?;
                let (lo, hi) = (order(&r.min, &v)?, order(&r.max, &v)?);
                use std::cmp::Ordering::*;
                let may = match op {
                    Op::Eq => lo != Greater && hi != Less,
                    Op::Ne => !(lo == Equal && hi == Equal),
                    Op::Lt => lo == Less,
                    Op::Le => lo != Greater,
                    Op::Gt => hi == Greater,
                    Op::Ge => hi != Less,
                };
                (!may).then_some(false)
            }
            Expr::In(c, lits) => {
                let none = lits.iter().all(|l| {
                    Expr::Compare(c.clone(), Op::Eq, l.clone()).may_keep(stats) == Some(false)
                });
                none.then_some(false)
            }
        }
    }

    fn columns<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Or(a, b) | Expr::And(a, b) => {
                a.columns(out);
                b.columns(out);
            }
            Expr::Not(a) => a.columns(out),
            Expr::Compare(c, _, _) | Expr::In(c, _) | Expr::IsNull(c, _) => {
                if !out.contains(&c.as_str()) {
                    out.push(c);
                }
            }
        }
    }
}

/// A partition value against a literal: as numbers in an integer column,
/// else as text.
fn compare(
    column: &str,
    value: &str,
    lit: &Literal,
    integer: bool,
) -> Result<std::cmp::Ordering, String> {
    if integer {
        let v: i64 = value.parse().expect("integer partitions hold integers");
        if let Ok(l) = lit.text().parse::<i64>() {
            return Ok(v.cmp(&l));
        }
        let l = number(column, lit)?;
        return Ok((v as f64).partial_cmp(&l).expect("neither is NaN"));
    }
    Ok(value.cmp(lit.text()))
}

#[cfg(test)]
mod tests;
