package database

import "go.mongodb.org/mongo-driver/v2/mongo"

// Driver is the driver's collection under c, for tests that look at storage as the engine
// keeps it (ObjectID ids, the driver's own errors).
func Driver(c *Collection) *mongo.Collection { return c.c }
