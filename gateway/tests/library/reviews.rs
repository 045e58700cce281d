//! `reviews`: each book's reviews, newest first, and its top reviewer: the handle that wrote most
//! of its three newest reviews. `topReviewer` `@requires(fields: "reviews(limit: 3) {
//! reviewerHandle }")`, a field with an argument that a client may also ask for under another
//! one (`reviews(limit: 1)`); who wrote a review is known to `people`.

use async_graphql::{ComplexObject, EmptyMutation, EmptySubscription, ID, InputObject, Object, Schema, SimpleObject};

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Book {
    pub id: ID,
    /// The `reviews(limit: 3)` the representation carried.
    #[graphql(skip)]
    pub required: Option<Vec<RequiredReview>>,
}

/// What `topReviewer` requires of a review (an entity argument, not part of the API).
#[derive(InputObject, Clone)]
#[graphql(inaccessible)]
pub struct RequiredReview {
    pub reviewer_handle: Option<String>,
}

#[derive(SimpleObject, Clone)]
pub struct Review {
    pub id: ID,
    pub body: String,
    #[graphql(external)]
    pub reviewer_handle: Option<String>,
}

#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "handle")]
pub struct Person {
    pub handle: String,
}

/// Reviews of a book, newest first.
pub fn reviews_of(book: &str) -> Vec<Review> {
    let ids: &[&str] = match book {
        "b1" => &["r1", "r2", "r3", "r4"],
        "b2" => &["r5"],
        _ => &[],
    };
    ids.iter()
        .map(|id| Review {
            id: ID::from(*id),
            body: format!("review {id}"),
            reviewer_handle: None,
        })
        .collect()
}

#[ComplexObject]
impl Book {
    async fn reviews(&self, limit: i32) -> Vec<Review> {
        reviews_of(&self.id).into_iter().take(limit.max(0) as usize).collect()
    }

    #[graphql(requires = "reviews(limit: 3) { reviewerHandle }")]
    async fn top_reviewer(&self) -> async_graphql::Result<Option<Person>> {
        let required = self.required.as_ref().ok_or("reviews(limit: 3) is required")?;
        if required.len() > 3 {
            return Err(format!("sent {} reviews, not the newest 3", required.len()).into());
        }
        let mut counts: Vec<(String, usize)> = Vec::new();
        for handle in required.iter().filter_map(|r| r.reviewer_handle.clone()) {
            match counts.iter_mut().find(|(h, _)| *h == handle) {
                Some((_, n)) => *n += 1,
                None => counts.push((handle, 1)),
            }
        }
        // Most reviews first; on a tie, the newest reviewer.
        let top = counts.iter().enumerate().max_by_key(|(i, (_, n))| (*n, usize::MAX - i));
        Ok(top.map(|(_, (handle, _))| Person { handle: handle.clone() }))
    }
}

pub struct Query;

#[Object]
impl Query {
    #[graphql(entity)]
    async fn find_book_by_id(&self, #[graphql(key)] id: ID, reviews: Option<Vec<RequiredReview>>) -> Book {
        Book { id, required: reviews }
    }

    #[graphql(entity)]
    async fn find_review_by_id(&self, id: ID) -> Option<Review> {
        ["b1", "b2"].iter().flat_map(|b| reviews_of(b)).find(|r| r.id == id)
    }
}

pub fn schema() -> Schema<Query, EmptyMutation, EmptySubscription> {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}
