//! `catalog`: books and magazines behind the `Item` interface, whose `similar` a `Book` narrows to
//! `[Book]` (a covariant field); a `Shelf` union with an `@inaccessible` member (`Archived`); a
//! `Format` enum with an `@inaccessible` value (`AUDIO`, which one book still has); prices in a
//! `Currency` whose `INTERNAL` value is `@inaccessible`; and each book's writer, a `Person` keyed
//! by a nullable `handle` that is null for an anonymous writer.

use async_graphql::{
    ComplexObject, Context, EmptyMutation, EmptySubscription, Enum, ID, Interface, Object, Schema, SimpleObject, Union,
};

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Hardcover,
    Paperback,
    Ebook,
    /// Not public yet: the API schema does not have it.
    #[graphql(inaccessible)]
    Audio,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Currency {
    Usd,
    Eur,
    /// Transfer prices between our own companies: never public.
    #[graphql(inaccessible)]
    Internal,
}

/// A writer, known here only by the handle `people` resolves them by.
#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "handle")]
pub struct Person {
    pub handle: Option<String>,
}

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Book {
    pub id: ID,
    pub title: String,
    pub format: Format,
    #[graphql(skip)]
    pub usd: f64,
    #[graphql(skip)]
    pub similar_ids: Vec<&'static str>,
    #[graphql(skip)]
    pub writer: Option<Option<&'static str>>,
}

#[ComplexObject]
impl Book {
    /// The price in a currency (EUR at 0.9 to the dollar; INTERNAL at cost, half the price).
    async fn price_in(&self, currency: Currency) -> f64 {
        match currency {
            Currency::Usd => self.usd,
            Currency::Eur => (self.usd * 0.9 * 100.0).round() / 100.0,
            Currency::Internal => self.usd / 2.0,
        }
    }

    /// Narrows `Item.similar: [Item]`.
    async fn similar(&self) -> Vec<Book> {
        self.similar_ids.iter().filter_map(|id| book(id)).collect()
    }

    /// `null` for a book without a known writer; a writer without a handle is anonymous.
    async fn writer(&self) -> Option<Person> {
        self.writer.map(|handle| Person {
            handle: handle.map(str::to_owned),
        })
    }
}

impl Book {
    /// `Item.similar` of a book: its similar books, as items.
    pub async fn similar_items(&self, _ctx: &Context<'_>) -> async_graphql::Result<Vec<Item>> {
        Ok(self
            .similar_ids
            .iter()
            .filter_map(|id| book(id))
            .map(Item::Book)
            .collect())
    }
}

#[derive(SimpleObject, Clone)]
pub struct Magazine {
    pub id: ID,
    pub title: String,
    pub issue: i32,
    pub similar: Vec<Item>,
}

#[derive(Interface, Clone)]
#[graphql(
    field(name = "id", ty = "&ID"),
    field(name = "title", ty = "&String"),
    field(name = "similar", ty = "Vec<Item>", method = "similar_items")
)]
pub enum Item {
    Book(Book),
    Magazine(Magazine),
}

impl Magazine {
    pub async fn similar_items(&self, _ctx: &Context<'_>) -> async_graphql::Result<Vec<Item>> {
        Ok(self.similar.clone())
    }
}

/// A book taken off the shelves: kept for the catalogue's own reports only.
#[derive(SimpleObject, Clone)]
#[graphql(inaccessible)]
pub struct Archived {
    pub id: ID,
    pub reason: String,
}

#[derive(Union, Clone)]
pub enum Shelf {
    Book(Book),
    Magazine(Magazine),
    Archived(Archived),
}

pub fn books() -> Vec<Book> {
    [
        (
            "b1",
            "Dune",
            Format::Hardcover,
            20.0,
            vec!["b2", "b4"],
            Some(Some("frank")),
        ),
        ("b2", "Emma", Format::Paperback, 10.0, vec!["b1"], Some(None)),
        ("b3", "Ulysses", Format::Audio, 30.0, vec![], None),
        ("b4", "Walden", Format::Ebook, 8.0, vec![], Some(Some("henry"))),
    ]
    .into_iter()
    .map(|(id, title, format, usd, similar_ids, writer)| Book {
        id: ID::from(id),
        title: title.into(),
        format,
        usd,
        similar_ids,
        writer,
    })
    .collect()
}

pub fn book(id: &str) -> Option<Book> {
    books().into_iter().find(|b| b.id.as_str() == id)
}

fn magazine() -> Magazine {
    Magazine {
        id: ID::from("m1"),
        title: "Wired".into(),
        issue: 7,
        similar: vec![Item::Book(book("b1").expect("b1"))],
    }
}

pub struct Query;

#[Object]
impl Query {
    /// Every book, the one in an inaccessible format too.
    async fn books(&self) -> Vec<Option<Book>> {
        books().into_iter().map(Some).collect()
    }

    async fn book(&self, id: ID) -> Option<Book> {
        book(&id)
    }

    async fn items(&self) -> Vec<Item> {
        vec![Item::Book(book("b1").expect("b1")), Item::Magazine(magazine())]
    }

    /// A book, an archived book (inaccessible) and a magazine.
    async fn shelf(&self) -> Vec<Option<Shelf>> {
        vec![
            Some(Shelf::Book(book("b2").expect("b2"))),
            Some(Shelf::Archived(Archived {
                id: ID::from("a1"),
                reason: "water damage".into(),
            })),
            Some(Shelf::Magazine(magazine())),
        ]
    }

    /// Books in rows, with a gap: `[[b1, null], [b2, b4]]`.
    async fn book_grid(&self) -> Vec<Vec<Option<Book>>> {
        vec![vec![book("b1"), None], vec![book("b2"), book("b4")]]
    }

    /// Books of a format; `includeDrafts` is for the catalogue's own tools.
    async fn search(
        &self,
        format: Option<Format>,
        #[graphql(inaccessible, default = false)] include_drafts: bool,
    ) -> Vec<Book> {
        books()
            .into_iter()
            .filter(|b| format.is_none_or(|f| f == b.format) && (include_drafts || b.format != Format::Audio))
            .collect()
    }

    /// The cheapest price of any book in `currency`.
    async fn cheapest(&self, currency: Currency) -> f64 {
        let min = books().iter().map(|b| b.usd).fold(f64::MAX, f64::min);
        match currency {
            Currency::Usd => min,
            Currency::Eur => (min * 0.9 * 100.0).round() / 100.0,
            Currency::Internal => min / 2.0,
        }
    }

    #[graphql(entity)]
    async fn find_book_by_id(&self, id: ID) -> Option<Book> {
        book(&id)
    }
}

pub fn schema() -> Schema<Query, EmptyMutation, EmptySubscription> {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}
