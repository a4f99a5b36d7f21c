//! The tenant id (`orgId`) and how it is kept out of what pinprobe writes: it is shown only
//! masked (`1a2b…9f0e`), and hidden wherever a message quotes text of the package that holds it,
//! whole or in part.
//!
//! A part is a run of at least [`RUN`] characters of the id (all of it, for a shorter id), in
//! any case: a mask shows eight characters of a tenant's GUID, and no message shows eight in a
//! row. Text is searched for such runs before it is cut to the length a message quotes, so that
//! a cut cannot leave the start of an id behind. The search compares every character of the
//! text with every character of the id, once: linear in the text, as the id is at most
//! [`LONGEST`] characters.

use super::Problem;

/// The shortest id accepted: a shorter one could not be hidden without hiding common words.
const SHORTEST: usize = 4;

/// The longest id accepted: the portal writes a GUID, 36 characters.
const LONGEST: usize = 128;

/// The shortest run of the id's characters that is hidden.
const RUN: usize = 8;

/// A tenant id, read from a package's body.
pub(super) struct OrgId {
    /// as the package gives it, trimmed
    text: String,
    /// its characters, ASCII lower-cased
    lower: Vec<char>,
}

/// A piece of text a message quotes: a character, or a run of the tenant id hidden.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Piece {
    /// a character shown as it is
    Char(char),
    /// `chars` characters of the text; `whole` when they hold all of the id
    Hidden { chars: usize, whole: bool },
}

impl Piece {
    /// How many characters of the text the piece stands for.
    pub(super) fn chars(&self) -> usize {
        match self {
            Piece::Char(_) => 1,
            Piece::Hidden { chars, .. } => *chars,
        }
    }
}

impl OrgId {
    /// The id `text`; one too short to be hidden or too long to be a tenant's is refused.
    pub(super) fn new(text: &str) -> Result<OrgId, Problem> {
        let text = text.trim();
        let lower: Vec<char> = text.chars().map(|c| c.to_ascii_lowercase()).collect();
        if !(SHORTEST..=LONGEST).contains(&lower.len()) {
            return Err(Problem::file(format!(
                "orgId is not a tenant id ({} characters): expected the tenant's GUID, as the \
                 Defender portal writes it",
                lower.len()
            )));
        }
        Ok(OrgId {
            text: text.to_string(),
            lower,
        })
    }

    /// The id as pinprobe shows it: see [`mask`].
    pub(super) fn masked(&self) -> String {
        mask(&self.text)
    }

    /// How many characters the id has: a quote reads this many past what it shows, so that a
    /// run of the id at its end is found whole.
    pub(super) fn len(&self) -> usize {
        self.lower.len()
    }

    /// True when `text` holds the id or a run of it.
    pub(super) fn appears_in(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        self.pieces(&chars)
            .iter()
            .any(|p| matches!(p, Piece::Hidden { .. }))
    }

    /// `problem` with every run of the id in its message hidden.
    pub(super) fn redact(&self, mut problem: Problem) -> Problem {
        let chars: Vec<char> = problem.message.chars().collect();
        let pieces = self.pieces(&chars);
        if pieces.iter().all(|p| matches!(p, Piece::Char(_))) {
            return problem;
        }
        let mut out = String::with_capacity(problem.message.len());
        for piece in pieces {
            match piece {
                Piece::Char(c) => out.push(c),
                hidden => out.push_str(&self.token(&hidden)),
            }
        }
        problem.message = out;
        problem
    }

    /// What stands for a hidden piece: the mask for the whole id, `…` for a part.
    pub(super) fn token(&self, piece: &Piece) -> String {
        match piece {
            Piece::Hidden { whole: true, .. } => self.masked(),
            _ => "…".to_string(),
        }
    }

    /// `text` in pieces, each run of the id in it (of at least [`RUN`] characters, or the whole
    /// id) hidden as one piece; overlapping runs are one piece.
    pub(super) fn pieces(&self, text: &[char]) -> Vec<Piece> {
        let id = &self.lower;
        let shortest = RUN.min(id.len());
        // longest[i]: the longest run from text[i] that the id holds, found from the end of the
        // text with the longest common prefixes of text[i..] and each id[j..]
        let mut longest = vec![0usize; text.len()];
        let mut next = vec![0usize; id.len() + 1];
        let mut here = vec![0usize; id.len() + 1];
        for i in (0..text.len()).rev() {
            let c = text[i].to_ascii_lowercase();
            for j in 0..id.len() {
                here[j] = if id[j] == c { next[j + 1] + 1 } else { 0 };
            }
            longest[i] = here[..id.len()].iter().copied().max().unwrap_or(0);
            std::mem::swap(&mut here, &mut next);
        }
        let mut pieces = Vec::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            if longest[i] < shortest {
                pieces.push(Piece::Char(text[i]));
                i += 1;
                continue;
            }
            let (mut end, mut whole) = (i + longest[i], longest[i] == id.len());
            let mut k = i + 1;
            while k < end {
                if longest[k] >= shortest {
                    end = end.max(k + longest[k]);
                    whole |= longest[k] == id.len();
                }
                k += 1;
            }
            pieces.push(Piece::Hidden {
                chars: end - i,
                whole,
            });
            i = end;
        }
        pieces
    }
}

/// The tenant id as pinprobe shows it: the first and last four characters (`1a2b…9f0e`); `…`
/// alone for an id shorter than 12 characters, or one whose ends are not plain characters.
pub(super) fn mask(org: &str) -> String {
    let chars: Vec<char> = org.chars().collect();
    let plain = |c: &char| c.is_ascii_graphic();
    if chars.len() < 12
        || !chars[..4]
            .iter()
            .chain(&chars[chars.len() - 4..])
            .all(plain)
    {
        return "…".to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}
