//! Answers `__schema` and `__type` from the consumer schema. The planner only plans fetches, so
//! the gateway mirrors the consumer schema as an async-graphql dynamic schema whose resolvers are
//! never called (it runs in introspection-only mode) and lets it answer introspection.

use async_graphql::dynamic::{
    Enum, Field, FieldFuture, InputObject, InputValue, Interface, InterfaceField, Object, Scalar, Schema, TypeRef,
    Union,
};
use graphql_tools::static_graphql::schema::{Definition, Document, Type, TypeDefinition};
use serde_json::{Map, Value};

use crate::response::{GraphqlError, Response};

pub struct Introspection {
    schema: Schema,
}

fn type_ref(t: &Type) -> TypeRef {
    match t {
        Type::NamedType(n) => TypeRef::Named(n.clone().into()),
        Type::ListType(inner) => TypeRef::List(Box::new(type_ref(inner))),
        Type::NonNullType(inner) => TypeRef::NonNull(Box::new(type_ref(inner))),
    }
}

fn never(_: async_graphql::dynamic::ResolverContext<'_>) -> FieldFuture<'_> {
    FieldFuture::new(async { Ok(None::<async_graphql::Value>) })
}

const BUILT_IN: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];

impl Introspection {
    pub fn new(doc: &Document) -> Result<Introspection, String> {
        let mut query = "Query".to_owned();
        let mut mutation = None;
        let mut types: Vec<async_graphql::dynamic::Type> = Vec::new();
        for def in &doc.definitions {
            match def {
                Definition::SchemaDefinition(s) => {
                    if let Some(q) = &s.query {
                        query = q.clone();
                    }
                    mutation = s.mutation.clone();
                }
                Definition::TypeDefinition(td) => match td {
                    TypeDefinition::Object(o) if !o.name.starts_with("__") => {
                        let mut obj = Object::new(&o.name);
                        if let Some(d) = &o.description {
                            obj = obj.description(d);
                        }
                        for i in &o.implements_interfaces {
                            obj = obj.implement(i);
                        }
                        for f in o.fields.iter().filter(|f| !f.name.starts_with("__")) {
                            let mut field = Field::new(&f.name, type_ref(&f.field_type), never);
                            if let Some(d) = &f.description {
                                field = field.description(d);
                            }
                            for a in &f.arguments {
                                field = field.argument(InputValue::new(&a.name, type_ref(&a.value_type)));
                            }
                            obj = obj.field(field);
                        }
                        types.push(obj.into());
                    }
                    TypeDefinition::Interface(i) if !i.name.starts_with("__") => {
                        let mut interface = Interface::new(&i.name);
                        for f in &i.fields {
                            let mut field = InterfaceField::new(&f.name, type_ref(&f.field_type));
                            for a in &f.arguments {
                                field = field.argument(InputValue::new(&a.name, type_ref(&a.value_type)));
                            }
                            interface = interface.field(field);
                        }
                        for n in &i.implements_interfaces {
                            interface = interface.implement(n);
                        }
                        types.push(interface.into());
                    }
                    TypeDefinition::Union(u) => {
                        let mut union = Union::new(&u.name);
                        for t in &u.types {
                            union = union.possible_type(t);
                        }
                        types.push(union.into());
                    }
                    TypeDefinition::Enum(e) if !e.name.starts_with("__") => {
                        types.push(Enum::new(&e.name).items(e.values.iter().map(|v| v.name.clone())).into());
                    }
                    TypeDefinition::Scalar(s) if !BUILT_IN.contains(&s.name.as_str()) => {
                        types.push(Scalar::new(&s.name).into());
                    }
                    TypeDefinition::InputObject(i) => {
                        let mut input = InputObject::new(&i.name);
                        for f in &i.fields {
                            input = input.field(InputValue::new(&f.name, type_ref(&f.value_type)));
                        }
                        types.push(input.into());
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        if mutation.is_none()
            && doc
                .definitions
                .iter()
                .any(|d| matches!(d, Definition::TypeDefinition(TypeDefinition::Object(o)) if o.name == "Mutation"))
        {
            mutation = Some("Mutation".into());
        }
        let mut builder = Schema::build(&query, mutation.as_deref(), None).introspection_only();
        for t in types {
            builder = builder.register(t);
        }
        let schema = builder.finish().map_err(|e| format!("introspection schema: {e}"))?;
        Ok(Introspection { schema })
    }

    pub async fn execute(&self, query: &str, operation_name: Option<&str>, variables: &Map<String, Value>) -> Response {
        let mut request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(Value::Object(variables.clone())));
        if let Some(n) = operation_name {
            request = request.operation_name(n);
        }
        let response = self.schema.execute(request).await;
        let errors = response
            .errors
            .iter()
            .map(|e| GraphqlError::new(e.message.clone()).with_code("INTROSPECTION_FAILED"))
            .collect();
        let data = response.data.into_json().unwrap_or(Value::Null);
        Response {
            data: Some(data.into()),
            errors,
        }
    }
}
