//! Just enough HTML form reading for the scripted "system browser" to get through a provider's
//! sign-in pages without JavaScript: the forms of a page, their fields and submit buttons.
//!
//! It reads server-rendered markup (node `oidc-provider`'s development login, consent and
//! sign-out pages), not arbitrary HTML: no scripts run, no CSS applies, and only `<form>`,
//! `<input>`, `<button>` and `<textarea>` tags are looked at.

/// One `<form>`, with the fields and submit buttons that belong to it (including buttons outside
/// it that name it with a `form` attribute).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pub id: Option<String>,
    /// As written (entities decoded); empty means the page's own address.
    pub action: String,
    /// Lower case: `get` or `post`.
    pub method: String,
    pub fields: Vec<Field>,
    /// Submit buttons in document order: `(name, value)`, either possibly empty.
    pub buttons: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Lower case `type` (`text` when absent); `textarea` for a text area.
    pub kind: String,
    pub name: String,
    pub value: String,
    pub checked: bool,
}

impl Form {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// What a browser sends when the first submit button is pressed: every named field but
    /// unchecked boxes and other buttons, with `fill` replacing the values it knows, then the
    /// button's own name and value.
    pub fn submission(&self, fill: impl Fn(&str) -> Option<String>) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .fields
            .iter()
            .filter(|field| !field.name.is_empty())
            .filter(|field| match field.kind.as_str() {
                "checkbox" | "radio" => field.checked,
                "submit" | "button" | "reset" | "image" | "file" => false,
                _ => true,
            })
            .map(|field| {
                let value = fill(&field.name).unwrap_or_else(|| field.value.clone());
                (field.name.clone(), value)
            })
            .collect();
        if let Some((name, value)) = self.buttons.first() {
            if !name.is_empty() {
                pairs.push((name.clone(), value.clone()));
            }
        }
        pairs
    }
}

/// The forms of `html`, in document order.
pub fn forms(html: &str) -> Vec<Form> {
    let mut forms: Vec<Form> = Vec::new();
    // Buttons outside any form that name one with `form="id"`.
    let mut detached: Vec<(String, (String, String))> = Vec::new();
    let mut open: Option<usize> = None;
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let Some((name, attributes, after)) = tag(rest) else {
            continue;
        };
        rest = after;
        let attribute = |wanted: &str| -> Option<String> {
            attributes
                .iter()
                .find(|(name, _)| name == wanted)
                .map(|(_, value)| value.clone())
        };
        match name.as_str() {
            "form" => {
                forms.push(Form {
                    id: attribute("id"),
                    action: attribute("action").unwrap_or_default(),
                    method: attribute("method")
                        .unwrap_or_else(|| "get".to_owned())
                        .to_ascii_lowercase(),
                    ..Form::default()
                });
                open = Some(forms.len() - 1);
            }
            "/form" => open = None,
            "input" | "button" | "textarea" => {
                let kind = match name.as_str() {
                    "textarea" => "textarea".to_owned(),
                    "button" => attribute("type")
                        .unwrap_or_else(|| "submit".to_owned())
                        .to_ascii_lowercase(),
                    _ => attribute("type")
                        .unwrap_or_else(|| "text".to_owned())
                        .to_ascii_lowercase(),
                };
                let field_name = attribute("name").unwrap_or_default();
                let value = attribute("value").unwrap_or_default();
                let is_button = kind == "submit" && name != "textarea";
                let owner = attribute("form");
                if is_button {
                    let button = (field_name, value);
                    match (owner, open) {
                        (Some(owner), _) => detached.push((owner, button)),
                        (None, Some(index)) => forms[index].buttons.push(button),
                        (None, None) => {}
                    }
                } else if let Some(index) = open {
                    forms[index].fields.push(Field {
                        kind,
                        name: field_name,
                        value,
                        checked: attribute("checked").is_some(),
                    });
                }
            }
            _ => {}
        }
    }
    for (owner, button) in detached {
        if let Some(form) = forms
            .iter_mut()
            .find(|form| form.id.as_deref() == Some(&owner))
        {
            form.buttons.push(button);
        }
    }
    forms
}

type Attributes = Vec<(String, String)>;

/// Reads a tag after its `<`: its lower-case name (`/form` for an end tag), its attributes
/// (names lower case, values with entities decoded), and the text after its `>`.
fn tag(text: &str) -> Option<(String, Attributes, &str)> {
    let name_end = text
        .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/' && !text.starts_with('/'))
        .unwrap_or(text.len());
    let name = text[..name_end].to_ascii_lowercase();
    if name.is_empty()
        || !name
            .trim_start_matches('/')
            .chars()
            .all(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let mut rest = &text[name_end..];
    let mut attributes = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if let Some(after) = rest.strip_prefix('>') {
            return Some((name, attributes, after));
        }
        if rest.is_empty() {
            return None;
        }
        let key_end = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let key = rest[..key_end].to_ascii_lowercase();
        rest = rest[key_end..].trim_start();
        let mut value = String::new();
        if let Some(after_equals) = rest.strip_prefix('=') {
            let after_equals = after_equals.trim_start();
            let quote = after_equals
                .chars()
                .next()
                .filter(|c| *c == '"' || *c == '\'');
            let (raw, after) = match quote {
                Some(quote) => {
                    let inner = &after_equals[1..];
                    let end = inner.find(quote)?;
                    (&inner[..end], &inner[end + 1..])
                }
                None => {
                    let end = after_equals
                        .find(|c: char| c.is_ascii_whitespace() || c == '>')
                        .unwrap_or(after_equals.len());
                    (&after_equals[..end], &after_equals[end..])
                }
            };
            value = decode_entities(raw);
            rest = after;
        }
        if key.is_empty() {
            // A stray character: skip it rather than loop.
            rest = rest.get(1..)?;
        } else {
            attributes.push((key, value));
        }
    }
}

/// Decodes the character references a server puts in attribute values.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let decoded = rest.find(';').filter(|end| *end <= 10).and_then(|end| {
            let entity = &rest[1..end];
            let character = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let number = entity.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((character, end + 1))
        });
        match decoded {
            Some((character, length)) => {
                out.push(character);
                rest = &rest[length..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_login_form() {
        let html = r#"<!DOCTYPE html><html><body><div class="login-card"><h1>Sign-in</h1>
            <form autocomplete="off" action="http://127.0.0.1:9/op/interaction/abc&#x2F;login?x=1&amp;y=2" method="post">
            <input type="hidden" name="prompt" value="login"/>
            <input required type="text" name="login" placeholder="Enter any login" autofocus="on">
            <input required type="password" name="password" placeholder="and password" >
            <button type="submit" class="login login-submit">Sign-in</button></form>
            <!-- <form action="/commented-out"> --></div></body></html>"#;
        let forms = forms(html);
        assert_eq!(forms.len(), 1);
        let form = &forms[0];
        assert_eq!(form.method, "post");
        assert_eq!(
            form.action,
            "http://127.0.0.1:9/op/interaction/abc/login?x=1&y=2"
        );
        assert_eq!(
            form.field("prompt").map(|f| f.value.as_str()),
            Some("login")
        );
        let sent = form.submission(|name| match name {
            "login" => Some("tester".to_owned()),
            "password" => Some("secret".to_owned()),
            _ => None,
        });
        assert_eq!(
            sent,
            [
                ("prompt".to_owned(), "login".to_owned()),
                ("login".to_owned(), "tester".to_owned()),
                ("password".to_owned(), "secret".to_owned()),
            ]
        );
    }

    #[test]
    fn buttons_outside_a_form_join_it_by_id() {
        let html = r#"<form id="op.logoutForm" method="post" action="/end"><input type="hidden" name="xsrf" value="s3"/></form>
            <button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes</button>
            <button type="submit" form="op.logoutForm">No</button>"#;
        let forms = forms(html);
        assert_eq!(forms[0].id.as_deref(), Some("op.logoutForm"));
        assert_eq!(
            forms[0].submission(|_| None),
            [
                ("xsrf".to_owned(), "s3".to_owned()),
                ("logout".to_owned(), "yes".to_owned()),
            ]
        );
    }

    #[test]
    fn unchecked_boxes_and_other_buttons_are_not_sent() {
        let html = "<form><input type=checkbox name=a value=1><input type=radio name=b value=2 checked>\
                    <input type=submit name=go value=Go><button name=cancel value=1>Cancel</button></form>";
        let form = &forms(html)[0];
        assert_eq!(form.method, "get");
        assert_eq!(
            form.submission(|_| None),
            [
                ("b".to_owned(), "2".to_owned()),
                ("go".to_owned(), "Go".to_owned()),
            ]
        );
    }

    #[test]
    fn decodes_entities_and_keeps_stray_ampersands() {
        assert_eq!(
            decode_entities("a&amp;b&#39;c&#x2F;&lt;&unknown; & d"),
            "a&b'c/<&unknown; & d"
        );
    }
}
