//! Records written out for people and machines: JSON, and one self-contained HTML page (no
//! script, no outside file, every value escaped). Neither holds a token: records never do.

use std::fmt::Write as _;

use super::{Attempt, CheckOutcome};

/// The forms an export takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Html,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Html => "html",
        }
    }
}

/// A file name that says what it holds and differs for each export: the one attempt's id, or
/// the newest and oldest of a selection and how many.
pub fn export_file_name(attempts: &[Attempt], format: ExportFormat) -> String {
    let extension = format.extension();
    match attempts {
        [one] => format!("careid-attempt-{}.{extension}", one.id),
        [newest, .., oldest] => format!(
            "careid-attempts-{}-to-{}-{}.{extension}",
            oldest.id,
            newest.id,
            attempts.len()
        ),
        [] => format!("careid-attempts-none.{extension}"),
    }
}

/// One attempt as a JSON object, or a selection as `{ "careid_version", "attempts": [...] }`.
pub fn to_json(attempts: &[Attempt]) -> String {
    let value = match attempts {
        [one] => serde_json::to_value(one),
        _ => serde_json::to_value(serde_json::json!({
            "careid_version": env!("CARGO_PKG_VERSION"),
            "attempts": attempts,
        })),
    };
    // A record is plain data: it always serialises.
    serde_json::to_string_pretty(&value.unwrap_or_default()).unwrap_or_default()
}

/// A self-contained page for people: each attempt's verdict, what was asked beside what came
/// back, the checks, headers, times, timings, timeline and claims.
pub fn to_html(attempts: &[Attempt], title: &str) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n\
         <p>careid {} · {} attempt{}</p>\n",
        escape(title),
        escape(title),
        escape(env!("CARGO_PKG_VERSION")),
        attempts.len(),
        if attempts.len() == 1 { "" } else { "s" },
    );
    for attempt in attempts {
        attempt_section(&mut page, attempt);
    }
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// The reports' one style sheet (history exports and run reports), inline.
pub(crate) const STYLE: &str = "body{font-family:Arial,sans-serif;margin:0;color:#212b32;background:#f0f4f5}\
main{max-width:60rem;margin:0 auto;padding:1rem}section{background:#fff;padding:1rem;margin:1rem 0}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.3rem;\
border-bottom:1px solid #d8dde0;overflow-wrap:anywhere}.passed{color:#007f3b}.failed{color:#d5281b;\
font-weight:bold}.not_applicable,.not_run{color:#4c6272}pre{white-space:pre-wrap;overflow-wrap:anywhere;\
background:#f0f4f5;padding:.5rem}";

fn attempt_section(page: &mut String, attempt: &Attempt) {
    let _ = write!(
        page,
        "<section>\n<h2>{} · {}</h2>\n",
        escape(attempt.verdict.code()),
        escape(&attempt.started_at.text())
    );
    let mut facts = vec![
        ("Attempt", attempt.id.to_string()),
        ("Profile", attempt.profile.name.clone()),
        ("Issuer", attempt.profile.issuer.clone()),
    ];
    if let Some(label) = &attempt.label {
        facts.push(("Label", label.clone()));
    }
    if let Some(error) = &attempt.error {
        facts.push((
            "Error",
            format!("{} ({}): {}", error.code, error.class, error.message),
        ));
    }
    table(
        page,
        "Attempt",
        &["", ""],
        facts
            .iter()
            .map(|(name, value)| vec![name.to_string(), value.clone()]),
    );

    let asked = &attempt.asked;
    let returned = attempt.returned.clone().unwrap_or_default();
    let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "—".to_owned());
    let asked_rows = asked.rows().map(|(name, value)| {
        vec![
            name.to_owned(),
            shown(&value.value),
            value.source.code().to_owned(),
        ]
    });
    table(
        page,
        "Asked",
        &["Parameter", "Value", "From"],
        asked_rows.into_iter(),
    );

    let amr = returned
        .amr
        .iter()
        .map(super::AmrValue::described)
        .collect::<Vec<_>>()
        .join(", ");
    let auth_time = returned.auth_time_text();
    let returned_rows = [
        ("acr", shown(&returned.acr)),
        ("amr", amr),
        (
            "authentication_assurance_level",
            shown(&returned.authentication_assurance_level),
        ),
        ("id_assurance_level", shown(&returned.id_assurance_level)),
        ("auth_time", shown(&auth_time)),
        (
            "role",
            returned
                .role
                .as_ref()
                .map(|role| {
                    format!(
                        "{} ({}, {}, {})",
                        role.name, role.person_roleid, role.org_code, role.how
                    )
                })
                .unwrap_or_else(|| "—".to_owned()),
        ),
    ]
    .map(|(name, value)| vec![name.to_owned(), value]);
    table(
        page,
        "Returned",
        &["Claim", "Value"],
        returned_rows.into_iter(),
    );

    table(
        page,
        "Checks",
        &["Rule", "Outcome", "Detail"],
        attempt.checks.iter().map(|check| {
            vec![
                format!("{}: {}", check.rule, check.description),
                outcome_word(check.outcome).to_owned(),
                check.detail.clone().unwrap_or_default(),
            ]
        }),
    );
    table(
        page,
        "Headers",
        &["Token", "alg", "kid", "typ"],
        attempt.headers.iter().map(|header| {
            vec![
                header.token.clone(),
                header.alg.clone(),
                shown(&header.kid),
                shown(&header.typ),
            ]
        }),
    );
    table(
        page,
        "Times",
        &["Token", "Claim", "UTC", "Value"],
        attempt.times.iter().map(|time| {
            vec![
                time.token.clone(),
                time.claim.clone(),
                time.at.text(),
                time.at.unix.to_string(),
            ]
        }),
    );
    table(
        page,
        "Timings",
        &["Step", "Milliseconds"],
        attempt
            .timings
            .iter()
            .map(|timing| vec![timing.step.clone(), timing.millis.to_string()]),
    );
    if !attempt.timeline.is_empty() {
        table(
            page,
            "Timeline",
            &["UTC", "Event", "Detail"],
            attempt.timeline.iter().map(|event| {
                vec![
                    event.at.text(),
                    event.kind.clone(),
                    event.detail.clone().unwrap_or_default(),
                ]
            }),
        );
    }
    for (name, claims) in [
        (
            if attempt.claims.id_token_verified {
                "ID token claims"
            } else {
                "ID token claims (not verified)"
            },
            &attempt.claims.id_token,
        ),
        (
            "Access token claims (not verified)",
            &attempt.claims.access_token,
        ),
        ("UserInfo", &attempt.claims.userinfo),
    ] {
        if let Some(claims) = claims {
            let text = serde_json::to_string_pretty(claims).unwrap_or_default();
            let _ = write!(
                page,
                "<h3>{}</h3>\n<pre>{}</pre>\n",
                escape(name),
                escape(&text)
            );
        }
    }
    page.push_str("</section>\n");
}

fn outcome_word(outcome: CheckOutcome) -> &'static str {
    match outcome {
        CheckOutcome::Passed => "passed",
        CheckOutcome::Failed => "failed",
        CheckOutcome::NotApplicable => "not applicable",
        CheckOutcome::NotRun => "not run",
    }
}

fn table(page: &mut String, caption: &str, head: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let _ = write!(
        page,
        "<table>\n<caption><h3>{}</h3></caption>\n<thead><tr>",
        escape(caption)
    );
    for name in head {
        let _ = write!(page, "<th scope=\"col\">{}</th>", escape(name));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        page.push_str("<tr>");
        for cell in &row {
            let class = match cell.as_str() {
                "passed" | "failed" => cell.as_str(),
                "not applicable" => "not_applicable",
                "not run" => "not_run",
                _ => "",
            };
            if class.is_empty() {
                let _ = write!(page, "<td>{}</td>", escape(cell));
            } else {
                let _ = write!(page, "<td class=\"{class}\">{}</td>", escape(cell));
            }
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
}

/// Text made safe inside HTML elements and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_cannot_write_markup_into_the_page() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }
}
