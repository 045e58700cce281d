//! Tool descriptions from the GraphQL schema's own documentation: the composed supergraph
//! (`supergraph/supergraph.graphql`, checked in and kept current by CI) is compiled in, and the
//! doc string of the field a tool calls opens the tool's description. When the schema's wording
//! changes, the tools say the same thing without a second copy to keep in step.

const SUPERGRAPH: &str = include_str!("../../../supergraph/supergraph.graphql");

/// The doc string of the field `name` of type `parent` (`Query`, `Mutation`) in `sdl`.
pub fn field_doc(sdl: &str, parent: &str, name: &str) -> Option<String> {
    let start = sdl.find(&format!("\ntype {parent} "))?;
    let body = &sdl[start..];
    let end = body.find("\n}").unwrap_or(body.len());
    let lines: Vec<&str> = body[..end].lines().collect();
    // The field's line is indented by two spaces exactly (arguments are deeper).
    let at = lines.iter().position(|l| {
        l.strip_prefix("  ")
            .filter(|rest| !rest.starts_with(' '))
            .is_some_and(|rest| rest.starts_with(&format!("{name}(")) || rest.starts_with(&format!("{name}:")))
    })?;
    // Walk back over the `"""` block above it.
    let mut i = at.checked_sub(1)?;
    if lines[i].trim() != "\"\"\"" {
        return None;
    }
    let mut doc = Vec::new();
    loop {
        i = i.checked_sub(1)?;
        let line = lines[i].trim();
        if line == "\"\"\"" {
            break;
        }
        doc.push(line);
    }
    doc.reverse();
    Some(doc.join(" ").trim().to_owned())
}

fn doc_of(parent: &str, name: &str) -> String {
    field_doc(SUPERGRAPH, parent, name).unwrap_or_default()
}

/// `getContent`.
pub fn get_content() -> String {
    format!(
        "Find images of the PromptContent library for a text description: returns each image's URL, description, \
         score and hashtags, best first, and the hashtags of the whole answer. Runs the graph's `searchImages` with your \
         own token (its organization and scopes apply; needs content:read, and sales:write to record the call). \
         From the schema: {}",
        doc_of("Query", "searchImages")
    )
}

/// `draftCampaignMessages`.
pub fn draft_campaign_messages() -> String {
    format!(
        "Turn a campaign brief into drafts for people to review: stores a content request for the campaign and, for \
         each target population, a campaign log of exactly three messages (awareness, consideration, conversion) in \
         the population's language, with a tone and channel fitted to its age and interests, all with status \
         PENDING_APPROVAL. Text comes from your own model when you offer sampling, else from the server's configured \
         model, else from an offline composer. Needs the content:write scope (and sales:write to record the call). \
         From the schema: {} {}",
        doc_of("Mutation", "createContentRequest"),
        doc_of("Mutation", "draftCampaignLog")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_read_a_fields_doc_string_from_the_sdl() {
        let sdl = "schema {}\n\ntype Query {\n  \"\"\"\n  Images by meaning,\n  best first.\n  \"\"\"\n  searchImages(\n    \"\"\"\n    arg doc\n    \"\"\"\n    text: String!\n  ): X!\n  other: Int\n}\n";
        assert_eq!(
            field_doc(sdl, "Query", "searchImages").as_deref(),
            Some("Images by meaning, best first.")
        );
        assert_eq!(field_doc(sdl, "Query", "other"), None);
        assert_eq!(field_doc(sdl, "Mutation", "searchImages"), None);
    }
}
