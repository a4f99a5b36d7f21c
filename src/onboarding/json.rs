//! JSON as the layers of a package are parsed: `serde_json`'s [`Value`], but an object that
//! gives a key the reader uses twice is refused, where `serde_json` keeps the last value. The
//! key is named in the error; other keys are never quoted, so that no message repeats text of
//! the package (a key may be anything, the tenant id too).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The keys the reader takes a value from, at any level: the outer JSON's `onboardingInfo`
/// (or `OnboardingInfo`, the same key), the blob's `body`, and the body's fields.
const KEYS: [&str; 8] = [
    "onboardingInfo",
    "body",
    "orgId",
    "partnerGeoLocation",
    "vortexGeoLocation",
    "datacenter",
    "geoLocationUrl",
    "vortexServerUrl",
];

/// The value of the JSON `text`. A key of [`KEYS`] given twice in one object is an error of
/// [`serde_json::error::Category::Data`] whose message is `KEY twice`.
pub(super) fn parse(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// The index in [`KEYS`] of a key the reader uses.
fn used(key: &str) -> Option<usize> {
    let key = if key == "OnboardingInfo" {
        "onboardingInfo"
    } else {
        key
    };
    KEYS.iter().position(|k| *k == key)
}

/// Reads a [`Value`], refusing a used key given twice in any object of it. `serde_json`
/// limits the nesting, so the recursion stays shallow.
#[derive(Clone, Copy)]
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        let mut seen = [false; KEYS.len()];
        while let Some(key) = map.next_key::<String>()? {
            if let Some(at) = used(&key) {
                if seen[at] {
                    return Err(de::Error::custom(format_args!("{key} twice")));
                }
                seen[at] = true;
            }
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}
