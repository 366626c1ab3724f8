package store

import "go.mongodb.org/mongo-driver/v2/mongo/options"

func upsert() *options.ReplaceOptionsBuilder { return options.Replace().SetUpsert(true) }
