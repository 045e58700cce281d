//! `people`: writers and reviewers by handle, and who wrote each review. Like some subgraph
//! servers, it refuses a whole `_entities` batch when one representation lacks its key (see
//! `mod.rs`), so a gateway that sends one costs every entity of the batch.

use async_graphql::{EmptyMutation, EmptySubscription, ID, Object, Schema, SimpleObject};

#[derive(SimpleObject, Clone)]
pub struct Person {
    pub handle: String,
    pub name: Option<String>,
}

#[derive(SimpleObject, Clone)]
pub struct Review {
    pub id: ID,
    pub reviewer_handle: Option<String>,
}

fn person(handle: &str) -> Option<Person> {
    let name = match handle {
        "frank" => "Frank Herbert",
        "henry" => "Henry David Thoreau",
        "ann" => "Ann Reader",
        "bob" => "Bob Critic",
        "cy" => "Cy Browser",
        _ => return None,
    };
    Some(Person {
        handle: handle.into(),
        name: Some(name.into()),
    })
}

pub struct Query;

#[Object]
impl Query {
    #[graphql(entity)]
    async fn find_person_by_handle(&self, handle: String) -> Option<Person> {
        person(&handle)
    }

    #[graphql(entity)]
    async fn find_review_by_id(&self, id: ID) -> Option<Review> {
        let handle = match id.as_str() {
            "r1" | "r4" => "ann",
            "r2" | "r3" => "bob",
            "r5" => "cy",
            _ => return None,
        };
        Some(Review {
            id,
            reviewer_handle: Some(handle.into()),
        })
    }
}

pub fn schema() -> Schema<Query, EmptyMutation, EmptySubscription> {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}
