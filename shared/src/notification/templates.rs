//! The messages' words: one template per message kind and language in
//! `shared/templates/notifications/<language>/<kind>.txt`, rendered with
//! MiniJinja.
//!
//! Each template has three blocks: `subject` (the email's subject and the
//! inbox entry's title), `text` (the plain-text email and the inbox
//! entry's body) and `sms`. The HTML email is the `text` block's paragraphs
//! in one shared layout, `email.html`, which MiniJinja escapes as HTML: no
//! venue name, resource name or reason reaches the HTML unescaped. Plain
//! text has nothing to escape, but control characters are stripped from
//! such values before any rendering, so none can break a subject line or
//! an SMS. A value a template names that the message does not have is an
//! error, never an empty string.
//!
//! Templates exist in English and Korean; an account in another language
//! reads English until its templates are written.

use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Value, json};

use super::{BookingFacts, Message, MessageKind};
use crate::identity::Language;

/// A message in words, for every channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sms: String,
}

/// A template failed to render: a bug in a template, caught by the
/// snapshot tests before it ships.
#[derive(Debug, thiserror::Error)]
#[error("template {template}: {source}")]
pub struct RenderError {
    template: String,
    #[source]
    source: minijinja::Error,
}

/// The languages with templates of their own.
const TEMPLATE_LANGUAGES: [&str; 2] = ["en", "ko"];

macro_rules! templates {
    ($($lang:literal / $kind:literal),* $(,)?) => {
        [$((
            concat!($lang, "/", $kind, ".txt"),
            include_str!(concat!("../../templates/notifications/", $lang, "/", $kind, ".txt")),
        )),*]
    };
}

const SOURCES: [(&str, &str); 14] = templates![
    "en" / "welcome",
    "en" / "booking_confirmed",
    "en" / "booking_cancelled",
    "en" / "hold_expired",
    "en" / "payment_failed",
    "en" / "payment_refunded",
    "en" / "reminder",
    "ko" / "welcome",
    "ko" / "booking_confirmed",
    "ko" / "booking_cancelled",
    "ko" / "hold_expired",
    "ko" / "payment_failed",
    "ko" / "payment_refunded",
    "ko" / "reminder",
];

const LAYOUT: &str = include_str!("../../templates/notifications/email.html");

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // `.txt` templates are not escaped, `email.html` is escaped as HTML:
    // MiniJinja decides by the name's extension.
    for (name, source) in SOURCES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name} does not parse: {e}"));
    }
    env.add_template("email.html", LAYOUT)
        .unwrap_or_else(|e| panic!("template email.html does not parse: {e}"));
    env
});

/// The language whose templates an account reads.
pub fn template_language(language: Language) -> &'static str {
    match language {
        Language::Ko => "ko",
        _ => "en",
    }
}

/// `message` in `language`'s words.
pub fn render(message: &Message, language: Language) -> Result<Rendered, RenderError> {
    let lang = template_language(language);
    let name = format!("{lang}/{}.txt", message.kind().template());
    let failed = |source| RenderError {
        template: name.clone(),
        source,
    };
    let context = context(message, lang);
    let template = TEMPLATES.get_template(&name).map_err(failed)?;
    let mut captured = template.render_captured(&context).map_err(failed)?;
    let mut block = |block: &str| {
        captured
            .with_state_mut(|state| state.render_block(block))
            .map(|text| text.trim().to_owned())
            .map_err(failed)
    };
    let subject = block("subject")?;
    let text = block("text")?;
    let sms = block("sms")?;
    let paragraphs: Vec<Vec<&str>> = text
        .split("\n\n")
        .map(|p| p.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
        .filter(|lines: &Vec<&str>| !lines.is_empty())
        .collect();
    let html = TEMPLATES
        .get_template("email.html")
        .and_then(|layout| {
            layout.render(json!({ "lang": lang, "subject": subject, "paragraphs": paragraphs }))
        })
        .map_err(|source| RenderError {
            template: "email.html".into(),
            source,
        })?;
    Ok(Rendered {
        subject: one_line(&subject),
        text,
        html,
        sms: one_line(&sms),
    })
}

/// Text from outside the platform's own templates, without control
/// characters (a newline in a venue's name cannot start a new line of an
/// SMS or a subject).
fn clean(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A subject or an SMS on one line, single-spaced.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn context(message: &Message, lang: &str) -> Value {
    let mut context = match message.booking() {
        Some(booking) => booking_context(booking, lang),
        None => json!({}),
    };
    let extra = match message {
        Message::Welcome | Message::BookingConfirmed(_) | Message::HoldExpired(_) => json!({}),
        Message::BookingCancelled {
            refund,
            refund_percent,
            ..
        } => json!({ "refund": refund.to_string(), "refund_percent": refund_percent }),
        Message::PaymentFailed { reason, .. } => json!({ "reason": clean(reason) }),
        Message::PaymentRefunded { refund, .. } => json!({ "refund": refund.to_string() }),
        Message::Reminder { minutes_before, .. } => json!({ "lead": lead(*minutes_before, lang) }),
    };
    if let (Some(context), Value::Object(extra)) = (context.as_object_mut(), extra) {
        context.extend(extra);
    }
    context
}

/// How long before the start, in words: `24 hours`, `90 minutes`, `2시간`.
fn lead(minutes: u32, lang: &str) -> String {
    let (n, hours) = if minutes.is_multiple_of(60) {
        (minutes / 60, true)
    } else {
        (minutes, false)
    };
    match (lang, hours) {
        ("ko", true) => format!("{n}시간"),
        ("ko", false) => format!("{n}분"),
        (_, true) => format!("{n} {}", if n == 1 { "hour" } else { "hours" }),
        (_, false) => format!("{n} {}", if n == 1 { "minute" } else { "minutes" }),
    }
}

fn booking_context(booking: &BookingFacts, lang: &str) -> Value {
    let at = booking.starts_at;
    let date = match lang {
        "ko" => {
            use chrono::Datelike;
            const DAYS: [&str; 7] = ["월", "화", "수", "목", "금", "토", "일"];
            format!(
                "{}년 {}월 {}일 ({})",
                at.year(),
                at.month(),
                at.day(),
                DAYS[at.weekday().num_days_from_monday() as usize]
            )
        }
        _ => at.format("%A %-d %B %Y").to_string(),
    };
    json!({
        "number": booking.number,
        "venue": clean(&booking.venue),
        "resource": clean(&booking.resource),
        "date": date,
        "time": at.format("%H:%M").to_string(),
        "zone": format!("{}, UTC{}", booking.time_zone, at.format("%:z")),
        "places": booking.places,
        "price": booking.price.to_string(),
    })
}

/// Every (kind, language) pair that has a template: the snapshot tests
/// render each.
pub fn every_template() -> impl Iterator<Item = (MessageKind, &'static str)> {
    TEMPLATE_LANGUAGES
        .into_iter()
        .flat_map(|lang| MessageKind::ALL.into_iter().map(move |kind| (kind, lang)))
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::notification::Money;

    fn booking(venue: &str) -> BookingFacts {
        BookingFacts {
            number: "BK7Q2M9X".into(),
            venue: venue.into(),
            resource: "East Course".into(),
            starts_at: DateTime::parse_from_rfc3339("2027-01-15T08:10:00+09:00").unwrap(),
            time_zone: "Asia/Seoul".into(),
            places: 2,
            price: Money {
                cents: 12_000,
                currency: "EUR".into(),
            },
        }
    }

    fn example(kind: MessageKind, venue: &str) -> Message {
        let b = booking(venue);
        let half = Money {
            cents: 6_000,
            currency: "EUR".into(),
        };
        match kind {
            MessageKind::Welcome => Message::Welcome,
            MessageKind::BookingConfirmed => Message::BookingConfirmed(b),
            MessageKind::BookingCancelled => Message::BookingCancelled {
                booking: b,
                refund: half,
                refund_percent: 50,
            },
            MessageKind::HoldExpired => Message::HoldExpired(b),
            MessageKind::PaymentFailed => Message::PaymentFailed {
                booking: b,
                reason: "The wallet's balance is 3,000 points short.".into(),
            },
            MessageKind::PaymentRefunded => Message::PaymentRefunded {
                booking: b,
                refund: half,
            },
            MessageKind::Reminder => Message::Reminder {
                booking: b,
                minutes_before: 24 * 60,
            },
        }
    }

    fn language(lang: &str) -> Language {
        Language::parse(lang).unwrap()
    }

    #[test]
    fn every_template_renders_as_its_snapshot() {
        for (kind, lang) in every_template() {
            let r = render(&example(kind, "Seoul Hills Golf Club"), language(lang)).unwrap();
            let shown = format!(
                "subject: {}\nsms: {}\n--- text\n{}\n--- html\n{}",
                r.subject, r.sms, r.text, r.html
            );
            insta::assert_snapshot!(format!("{lang}_{}", kind.template()), shown);
        }
    }

    #[test]
    fn operator_text_is_escaped_in_html_and_kept_on_one_line() {
        let venue = "<script>alert(1)</script> & \"Co\"\r\nBcc: x@example.com";
        for (kind, lang) in every_template() {
            let r = render(&example(kind, venue), language(lang)).unwrap();
            assert!(!r.html.contains("<script>"), "{kind:?} {lang}");
            assert!(!r.subject.contains('\n') && !r.sms.contains('\n'));
            if kind != MessageKind::Welcome {
                assert!(r.html.contains("&lt;script&gt;"), "{kind:?} {lang}");
                assert!(r.text.contains("<script>alert(1)</script> & \"Co\"  Bcc"));
            }
        }
    }

    #[test]
    fn a_language_without_templates_reads_english() {
        let message = example(MessageKind::BookingConfirmed, "Club");
        assert_eq!(
            render(&message, Language::Fr).unwrap(),
            render(&message, Language::En).unwrap()
        );
        assert_ne!(
            render(&message, Language::Ko).unwrap().subject,
            render(&message, Language::En).unwrap().subject
        );
    }

    #[test]
    fn the_time_is_the_venues_wall_clock_time_with_its_offset() {
        let r = render(
            &example(MessageKind::BookingConfirmed, "Club"),
            Language::En,
        )
        .unwrap();
        assert!(r.text.contains("Friday 15 January 2027"), "{}", r.text);
        assert!(
            r.text.contains("08:10 (Asia/Seoul, UTC+09:00)"),
            "{}",
            r.text
        );
        let r = render(
            &example(MessageKind::BookingConfirmed, "Club"),
            Language::Ko,
        )
        .unwrap();
        assert!(r.text.contains("2027년 1월 15일 (금) 08:10"), "{}", r.text);
    }
}
