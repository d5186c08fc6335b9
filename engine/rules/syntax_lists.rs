//! The block-list conditions of sift's rule language (a part of
//! [`super`], in its own file): `ip list "file"` (and `client.ip`,
//! `server.ip`), `http.url URL… list "file"`, `list registry "file"`. What
//! they hold and how they are read is [`crate::rules::blocklist`].

use std::sync::Arc;

use super::{err, example, ParseError, Tok, Token};
use crate::rules::blocklist::{self, Named, UrlValue};
use crate::rules::source::Loader;
use crate::rules::{Cond, Side};

/// Parses the values of a list condition `field` of rule file `file`;
/// `side` for address lists. A list that cannot be read or holds errors
/// is reported and stands as an empty condition (the set is refused).
pub(super) fn condition<'t>(
    l: &mut Loader,
    file: u32,
    field: &str,
    side: Side,
    values: &[&'t Token<'t>],
) -> Result<Cond, ParseError> {
    Ok(match field {
        "ip" | "client.ip" | "server.ip" => {
            let lists = list_files(field, values)?;
            match blocklist::address_lists(l, file, side, &lists) {
                Some(b) => Cond::List(Arc::new(b)),
                // Reported; an empty list keeps the rule's shape.
                None => Cond::Ip {
                    side,
                    nets: Vec::new(),
                },
            }
        }
        "http.url" => {
            let mut v = Vec::new();
            let mut i = 0;
            while i < values.len() {
                let t = values[i];
                match &t.tok {
                    Tok::Word("list") => {
                        let mut one = list_files(field, &values[i..(i + 2).min(values.len())])?;
                        v.push(UrlValue::List(one.remove(0)));
                        i += 2;
                        continue;
                    }
                    Tok::Word(w) => v.push(UrlValue::Inline(w, t.span, t.len)),
                    Tok::Str(s) => v.push(UrlValue::Inline(s, t.span, t.len)),
                    _ => return err(t, "expected a URL", example(field)),
                }
                i += 1;
            }
            match blocklist::url_condition(l, file, &v) {
                Some(b) => Cond::List(Arc::new(b)),
                None => Cond::Ip {
                    side: Side::Either,
                    nets: Vec::new(),
                },
            }
        }
        "list" => {
            let (kind, rest) = values.split_first().unwrap_or((&values[0], &[]));
            if !matches!(kind.tok, Tok::Word("registry")) || rest.len() != 1 {
                return err(
                    kind,
                    "`list` takes `registry \"file\"`",
                    Some(
                        "list registry \"dump.csv\": a registry dump's addresses, names and URLs"
                            .into(),
                    ),
                );
            }
            let Tok::Str(name) = &rest[0].tok else {
                return err(
                    rest[0],
                    "expected the dump's file name in double quotes",
                    example(field),
                );
            };
            let n = Named {
                name,
                span: rest[0].span,
                len: rest[0].len,
            };
            match blocklist::registry_dump(l, file, &n) {
                Some(b) => Cond::List(Arc::new(b)),
                None => Cond::Ip {
                    side: Side::Either,
                    nets: Vec::new(),
                },
            }
        }
        _ => {
            return err(
                values[0],
                format!("`{field}` is not a list condition"),
                None,
            )
        }
    })
}

/// The files of `list "file"` values; every value must be one.
fn list_files<'t>(field: &str, values: &[&'t Token<'t>]) -> Result<Vec<Named<'t>>, ParseError> {
    let mut out = Vec::new();
    let mut it = values.iter();
    while let Some(t) = it.next() {
        if !matches!(t.tok, Tok::Word("list")) {
            return err(
                t,
                format!("`{field}` takes either values or `list \"file\"`, not both"),
                Some(
                    "put the values in the list file, or write two conditions in two rules".into(),
                ),
            );
        }
        let Some(f) = it.next() else {
            return err(
                t,
                "expected a quoted list file after `list`",
                example(field),
            );
        };
        let Tok::Str(name) = &f.tok else {
            return err(
                f,
                "expected a quoted list file after `list`",
                example(field),
            );
        };
        out.push(Named {
            name,
            span: f.span,
            len: f.len,
        });
    }
    Ok(out)
}
