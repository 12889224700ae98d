//! The realm's own localization texts: each locale the document lists is made exactly its texts.

use cloakroom::request::encode_segment;
use serde_json::{Map, Value};

use super::super::plan::{Action, Change, Op, Path, Verb};
use super::super::session::doc_error;
use super::super::snapshot::Live;
use super::{Cx, Keyed, Kind};
use crate::exit::CliResult;

pub struct Localization;

impl Kind for Localization {
    const NAME: &'static str = "localizationTexts";

    async fn read_live(&self, _cx: &Cx<'_>, live: &mut Live<'_>) -> CliResult<Keyed> {
        Ok(match live.localization().await? {
            Value::Object(m) => m.into_iter().collect(),
            _ => Keyed::new(),
        })
    }

    async fn plan(&self, cx: &Cx<'_>, live: &Keyed, _r: &Live<'_>) -> CliResult<Vec<Change>> {
        let settings = &cx.desired["realm"]["settings"];
        let Some(locales) = settings["localizationTexts"].as_object() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (locale, want) in locales {
            let Some(want) = want.as_object() else {
                return Err(doc_error(
                    &format!("localizationTexts.{locale}"),
                    "must be an object of texts",
                ));
            };
            let empty = Map::new();
            let have = live
                .get(locale)
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            let changed: Map<String, Value> = want
                .iter()
                .filter(|(k, v)| have.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let extra: Vec<&String> = have.keys().filter(|k| !want.contains_key(*k)).collect();
            if changed.is_empty() && extra.is_empty() {
                out.push(Change::new(Self::NAME, locale, Action::Unchanged));
                continue;
            }
            let p = format!("/localization/{}", encode_segment(locale));
            let mut fields: Vec<String> = changed.keys().cloned().collect();
            fields.extend(extra.iter().map(|k| format!("-{k}")));
            let mut c = Change::new(Self::NAME, locale, Action::Update).fields(fields);
            if !changed.is_empty() {
                c = c.op(Op::send(
                    Verb::Post,
                    Path::lit(p.clone()),
                    Some(Value::Object(changed)),
                ));
            }
            for k in extra {
                c = c.op(Op::send(
                    Verb::Delete,
                    Path::lit(format!("{p}/{}", encode_segment(k))),
                    None,
                ));
            }
            out.push(c);
        }
        Ok(out)
    }
}
