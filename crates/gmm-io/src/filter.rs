//! `--filter`: which files of a partitioned dataset a job reads, by their
//! partition values, decided from the paths alone (the files left out are
//! never opened).
//!
//! The language: comparisons of a partition column with a value,
//! `day >= '2026-11-01'`, `region = "eu"`, `year != 2024`, with `=` (or
//! `==`), `!=` (or `<>`), `<`, `<=`, `>`, `>=`; `col in ('a', 'b')`;
//! `col is null`, `col is not null`; combined with `and`, `or`, `not` and
//! parentheses. Text is quoted with `'` or `"`; a column of integers
//! compares as numbers, any other as text. A null value satisfies only
//! `is null` (and its negations), as in SQL.

use crate::partitions::Partitions;

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

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Text(String),
    Number(String),
    Op(Op),
    Open,
    Close,
    Comma,
}

impl Filter {
    /// Parses `text`; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let tokens = tokenize(text)?;
        let mut p = Parser { tokens, at: 0 };
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
    /// partition key (checked by the caller).
    pub(crate) fn keeps(&self, parts: &Partitions, file: usize) -> Result<bool, String> {
        self.expr.eval(parts, file)
    }
}

impl Expr {
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

    fn eval(&self, parts: &Partitions, file: usize) -> Result<bool, String> {
        let value = |c: &str| {
            let k = parts.key(c).expect("a partition column");
            let integer = parts.fields[k].data_type().is_integer();
            (parts.value(file, k), integer)
        };
        Ok(match self {
            Expr::Or(a, b) => a.eval(parts, file)? || b.eval(parts, file)?,
            Expr::And(a, b) => a.eval(parts, file)? && b.eval(parts, file)?,
            Expr::Not(a) => !a.eval(parts, file)?,
            Expr::IsNull(c, null) => value(c).0.is_none() == *null,
            Expr::Compare(c, op, lit) => match value(c) {
                (None, _) => false,
                (Some(v), integer) => {
                    let ord = compare(c, v, lit, integer)?;
                    match op {
                        Op::Eq => ord.is_eq(),
                        Op::Ne => ord.is_ne(),
                        Op::Lt => ord.is_lt(),
                        Op::Le => ord.is_le(),
                        Op::Gt => ord.is_gt(),
                        Op::Ge => ord.is_ge(),
                    }
                }
            },
            Expr::In(c, lits) => match value(c) {
                (None, _) => false,
                (Some(v), integer) => {
                    let mut any = false;
                    for lit in lits {
                        any |= compare(c, v, lit, integer)?.is_eq();
                    }
                    any
                }
            },
        })
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
        let l: i64 = lit.text().parse().map_err(|_| {
            format!(
                "column `{column}` holds integers; `{}` is not one",
                lit.text()
            )
        })?;
        return Ok(v.cmp(&l));
    }
    Ok(value.cmp(lit.text()))
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '\'' | '"' | '`' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&d| d == c)
                    .ok_or_else(|| format!("the quote {c} at character {} is not closed", i + 1))?;
                let s: String = chars[i + 1..i + 1 + end].iter().collect();
                // Backquotes name a column, other quotes give text.
                out.push(if c == '`' {
                    Token::Ident(s)
                } else {
                    Token::Text(s)
                });
                i += end + 2;
            }
            _ if ["<=", ">=", "!=", "<>", "=="].contains(&two.as_str()) => {
                out.push(Token::Op(match two.as_str() {
                    "<=" => Op::Le,
                    ">=" => Op::Ge,
                    "==" => Op::Eq,
                    _ => Op::Ne,
                }));
                i += 2;
            }
            '=' | '<' | '>' => {
                out.push(Token::Op(match c {
                    '=' => Op::Eq,
                    '<' => Op::Lt,
                    _ => Op::Gt,
                }));
                i += 1;
            }
            _ if c.is_ascii_digit() || c == '-' || c == '+' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|d| !(d.is_ascii_alphanumeric() || *d == '.'))
                    .map_or(chars.len(), |p| i + 1 + p);
                out.push(Token::Number(chars[i..end].iter().collect()));
                i = end;
            }
            _ if c.is_alphabetic() || c == '_' => {
                let end = chars[i..]
                    .iter()
                    .position(|d| !(d.is_alphanumeric() || *d == '_' || *d == '.'))
                    .map_or(chars.len(), |p| i + p);
                out.push(Token::Ident(chars[i..end].iter().collect()));
                i = end;
            }
            _ => return Err(format!("unexpected `{c}` at character {}", i + 1)),
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Ident(w)) if w.eq_ignore_ascii_case(word))
    }

    fn describe(&self) -> String {
        match self.tokens.get(self.at) {
            None => "the end".into(),
            Some(Token::Ident(w)) => format!("`{w}`"),
            Some(Token::Text(t)) => format!("'{t}'"),
            Some(Token::Number(n)) => format!("`{n}`"),
            Some(Token::Op(_)) => "a comparison".into(),
            Some(Token::Open) => "`(`".into(),
            Some(Token::Close) => "`)`".into(),
            Some(Token::Comma) => "`,`".into(),
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.peek_word("or") {
            self.at += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.not()?;
        while self.peek_word("and") {
            self.at += 1;
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.peek_word("not") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn literal(&mut self) -> Result<Literal, String> {
        let lit = match self.tokens.get(self.at) {
            Some(Token::Text(t)) => Literal::Text(t.clone()),
            Some(Token::Number(n)) => Literal::Number(n.clone()),
            _ => return Err(format!("expected a value, found {}", self.describe())),
        };
        self.at += 1;
        Ok(lit)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.tokens.get(self.at).cloned() {
            Some(Token::Open) => {
                self.at += 1;
                let e = self.or()?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err(format!("expected `)`, found {}", self.describe()));
                }
                self.at += 1;
                Ok(e)
            }
            Some(Token::Ident(column)) => {
                self.at += 1;
                if self.peek_word("in") {
                    self.at += 1;
                    if self.tokens.get(self.at) != Some(&Token::Open) {
                        return Err(format!(
                            "expected `(` after `in`, found {}",
                            self.describe()
                        ));
                    }
                    self.at += 1;
                    let mut values = vec![self.literal()?];
                    while self.tokens.get(self.at) == Some(&Token::Comma) {
                        self.at += 1;
                        values.push(self.literal()?);
                    }
                    if self.tokens.get(self.at) != Some(&Token::Close) {
                        return Err(format!("expected `,` or `)`, found {}", self.describe()));
                    }
                    self.at += 1;
                    return Ok(Expr::In(column, values));
                }
                if self.peek_word("is") {
                    self.at += 1;
                    let negated = self.peek_word("not");
                    self.at += usize::from(negated);
                    if !self.peek_word("null") {
                        return Err(format!(
                            "expected `null` after `is`, found {}",
                            self.describe()
                        ));
                    }
                    self.at += 1;
                    return Ok(Expr::IsNull(column, !negated));
                }
                let op = match self.tokens.get(self.at) {
                    Some(Token::Op(op)) => *op,
                    _ => {
                        return Err(format!(
                            "expected a comparison (=, !=, <, <=, >, >=, in, is) after `{column}`, found {}",
                            self.describe()
                        ));
                    }
                };
                self.at += 1;
                Ok(Expr::Compare(column, op, self.literal()?))
            }
            _ => Err(format!("expected a column, found {}", self.describe())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn parts() -> Partitions {
        let root = Path::new("/d");
        let files: Vec<PathBuf> = [
            "day=2026-10-31/n=3/a.parquet",
            "day=2026-11-01/n=12/a.parquet",
            "day=2026-11-02/n=__HIVE_DEFAULT_PARTITION__/a.parquet",
        ]
        .iter()
        .map(|p| root.join(p))
        .collect();
        Partitions::of(root, &files).unwrap().unwrap()
    }

    fn kept(text: &str) -> Vec<usize> {
        let f = Filter::parse(text).unwrap();
        let p = parts();
        (0..3).filter(|&i| f.keeps(&p, i).unwrap()).collect()
    }

    #[test]
    fn conditions_select_files() {
        assert_eq!(kept("day >= '2026-11-01'"), [1, 2]);
        assert_eq!(
            kept("n > 5"),
            [1],
            "integers compare as numbers, nulls fail"
        );
        assert_eq!(kept("n < 5 or n is null"), [0, 2]);
        assert_eq!(kept("not (day = \"2026-11-01\") and n is not null"), [0]);
        assert_eq!(kept("day in ('2026-10-31', '2026-11-02')"), [0, 2]);
        assert_eq!(kept("`n` <> 3"), [1]);
        assert_eq!(
            Filter::parse("n = 3 and day < '2027'").unwrap().columns(),
            ["n", "day"]
        );
    }

    #[test]
    fn mistakes_are_told() {
        for (text, needle) in [
            ("day >= ", "expected a value, found the end"),
            ("day '2026'", "expected a comparison"),
            ("(n = 3", "expected `)`"),
            ("n = 3 m", "unexpected `m`"),
            ("day = '2026", "is not closed"),
            ("n ; 3", "unexpected `;`"),
            ("n is 3", "expected `null`"),
        ] {
            let e = Filter::parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
        let f = Filter::parse("n = 'x'").unwrap();
        let e = f.keeps(&parts(), 0).unwrap_err();
        assert!(e.contains("holds integers"), "{e}");
    }
}
