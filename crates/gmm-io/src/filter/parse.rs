//! The filter language's text into its expression: tokens, then a
//! recursive-descent parser of bounded depth.

use super::{Expr, Literal, Op};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Ident(String),
    /// A backquoted column name: never a keyword.
    Quoted(String),
    Text(String),
    Number(String),
    Op(Op),
    Open,
    Close,
    Comma,
}

pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, String> {
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
                    Token::Quoted(s)
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

pub(super) struct Parser {
    pub tokens: Vec<Token>,
    pub at: usize,
    /// Parentheses and `not`s open: bounded, so that no filter exhausts
    /// the stack.
    pub depth: usize,
}

/// The deepest nesting of parentheses and `not` a filter may have.
const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Ident(w)) if w.eq_ignore_ascii_case(word))
    }

    pub(super) fn describe(&self) -> String {
        match self.tokens.get(self.at) {
            None => "the end".into(),
            Some(Token::Ident(w) | Token::Quoted(w)) => format!("`{w}`"),
            Some(Token::Text(t)) => format!("'{t}'"),
            Some(Token::Number(n)) => format!("`{n}`"),
            Some(Token::Op(_)) => "a comparison".into(),
            Some(Token::Open) => "`(`".into(),
            Some(Token::Close) => "`)`".into(),
            Some(Token::Comma) => "`,`".into(),
        }
    }

    pub(super) fn or(&mut self) -> Result<Expr, String> {
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
            self.enter()?;
            let e = Expr::Not(Box::new(self.not()?));
            self.depth -= 1;
            return Ok(e);
        }
        self.primary()
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "more than {MAX_DEPTH} nested parentheses or `not`s; write the condition more simply"
            ));
        }
        Ok(())
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
                self.enter()?;
                let e = self.or()?;
                self.depth -= 1;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err(format!("expected `)`, found {}", self.describe()));
                }
                self.at += 1;
                Ok(e)
            }
            Some(Token::Ident(column) | Token::Quoted(column)) => {
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
