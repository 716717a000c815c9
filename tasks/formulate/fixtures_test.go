package formulate

import (
	"fmt"

	"github.com/humanllm/humanllm/tasks"
)

// Hand-built users, one per source, with hand-written artifacts.

const day = 86400

func redditUser() (*tasks.User, *tasks.Artifacts) {
	t0 := int64(1420070400) // 2015-01-01
	recs := []tasks.Record{
		{Kind: tasks.KindPost, Title: "Finally finished restoring my grandfather's workbench",
			Text:      "It took me almost four months of weekends, but the old oak workbench my grandfather built in 1962 is finally usable again. I stripped three layers of paint, replaced the vise screw and flattened the top by hand with a jointer plane. My wrists hate me but it was worth every minute.",
			Community: "woodworking"},
		{Kind: tasks.KindComment, Title: "What is the one hand tool you would never give up?",
			ParentText: "What is the one hand tool you would never give up? For me it is a good block plane.",
			Text:       "A sharp card scraper. It is cheap, it takes two minutes to learn, and it saves you from sanding tear-out on figured wood forever.",
			Community:  "woodworking"},
		{Kind: tasks.KindComment,
			ParentText: "Is it worth buying vintage planes on eBay or should I just get a new Lie-Nielsen?",
			Text:       "Vintage Stanleys are great if you enjoy tuning them. I bought a number 5 for twenty dollars and spent an evening flattening the sole. If you just want to work wood right away, the new ones are worth the money.",
			Community:  "handtools"},
		{Kind: tasks.KindPost, Title: "First attempt at hand-cut dovetails, be gentle",
			Text:      "I have been putting this off for years because I was scared of ruining good walnut. Today I finally cut my first set of through dovetails on a small box for my daughter. The gaps are visible and one tail split a little, but the joint is tight enough to hold without glue. I am weirdly proud of it.",
			Community: "woodworking"},
		{Kind: tasks.KindComment,
			ParentText: "My partner says my shop is too cold to work in during winter. How do you heat yours?",
			Text:       "I use a small oil-filled radiator and I insulated the garage door with foam panels. It is not warm, but glue cures and my fingers still work, which is all I ask for in January.",
			Community:  "woodworking"},
		{Kind: tasks.KindPost, Title: "Built a step stool with my daughter this weekend",
			Text:      "My daughter is six and she wanted to help in the shop, so we built a little step stool together from pine offcuts. She did the sanding and picked the paint colour, which is a very loud purple. Now she stands on it to brush her teeth every morning and tells everyone she built it herself. Best project I have made in years.",
			Community: "woodworking"},
	}
	for i := range recs {
		recs[i].Source, recs[i].User, recs[i].Time = tasks.SourceReddit, "u_reddit", t0+int64(i)*9*day
	}
	u := &tasks.User{Source: tasks.SourceReddit, ID: "1a2b3c4d5e6f7081", Name: "sawdust_dad", Records: recs}
	a := &tasks.Artifacts{
		Persona: "A hobby woodworker and father of a young daughter who prefers hand tools, restores old equipment and writes with self-deprecating humour.",
		Profile: "The user is a hobby woodworker who works mostly with hand tools in a cold garage shop. They restored their grandfather's oak workbench over four months of weekends, cut their first dovetails on a walnut box for their daughter, and built a purple step stool with her. They value old tools, patience and doing things by hand, and they give practical, friendly advice to beginners.",
		Style:   "The user writes short, friendly paragraphs in plain language, mixes practical detail with light self-deprecating jokes and often ends with a punchline.",
		Thoughts: []tasks.Thought{
			{Record: 0, Scenario: "After four months of weekends, the person finished restoring the oak workbench their grandfather built in 1962.", Thought: "My wrists hate me but it was worth every minute."},
			{Record: 3, Scenario: "The person cut their first set of through dovetails on a walnut box for their daughter; the gaps are visible but the joint holds.", Thought: "I am weirdly proud of it."},
			{Record: 5, Scenario: "The person built a step stool with their six-year-old daughter, who now tells everyone she built it herself.", Thought: "This is the best project I have made in years."},
		},
		Topics: []string{"restoring a grandfather's workbench", "the hand tool you would never give up", "vintage versus new hand planes", "first hand-cut dovetails", "heating a cold garage shop", "building a step stool with a child"},
	}
	return u, a
}

func twitterUser() (*tasks.User, *tasks.Artifacts) {
	t0 := int64(1262304000) // 2010-01-01
	texts := []string{
		"Morning run done before the rain. Five miles along the river and my knee did not complain once, which feels like a small miracle after the winter I had. Coffee now, emails later, maybe never.",
		"Our neighbourhood library is closing on Sundays starting next month. Budget cuts again. If you use it, please go to the council meeting on Thursday and say so out loud, politely but loudly.",
		"Tried to bake sourdough for the third time. The loaf came out flat enough to use as a doormat, but it tasted amazing, so I am counting it as a partial win and trying again on Saturday.",
		"The council meeting went better than expected. About forty people showed up for the library and two councillors promised to look at the Sunday hours again. Small victories matter.",
		"Knee is complaining again after yesterday's long run. Booked a physio appointment instead of pretending it is fine, which is growth for me. Ice pack and a good book tonight.",
		"Sourdough attempt number four actually rose! Crisp crust, open crumb, and the kitchen smells incredible. Thank you to everyone who sent tips about the starter feeding schedule last week.",
		"Library keeps its Sunday hours for another year. Thank you to everyone who wrote letters and came to the meetings. Go borrow something this weekend and show them it is worth it.",
	}
	recs := make([]tasks.Record, len(texts))
	for i, t := range texts {
		recs[i] = tasks.Record{Source: tasks.SourceTwitter, Kind: tasks.KindTweet, User: "u_tw", Time: t0 + int64(i)*5*day, Text: t}
	}
	u := &tasks.User{Source: tasks.SourceTwitter, ID: "a0b1c2d3e4f50617", Name: "riverrunner", Records: recs,
		Meta: map[string]string{"location": "Leeds", "followers": "312"}}
	a := &tasks.Artifacts{
		Persona: "A runner and home baker who is active in local civic life, especially in defending the neighbourhood library.",
		Thoughts: []tasks.Thought{
			{Record: 3, Scenario: "About forty people came to a council meeting to defend the local library's Sunday hours.", Thought: "Small victories matter."},
		},
		Topics: []string{"a morning river run", "library closing on Sundays", "a failed sourdough loaf", "the council meeting about the library", "knee pain and physio", "a successful sourdough loaf", "the library keeps Sunday hours"},
	}
	return u, a
}

func bloggerUser() (*tasks.User, *tasks.Artifacts) {
	t0 := int64(1088640000) // 2004-07-01
	recs := []tasks.Record{
		{Kind: tasks.KindPost, Title: "New job, new city",
			Text: "So I finally did it. I packed my whole life into eleven boxes and moved to Chicago for the design job. The apartment is tiny and the radiator clanks all night, but I can see the lake if I lean out of the bathroom window. My mom cried on the phone, I cried on the phone, and then we both laughed about the radiator."},
		{Kind: tasks.KindPost, Title: "First week at the studio",
			Text: "The studio is full of people who dress better than me and drink far too much espresso. My first project is a logo for a bakery, which is perfect because they keep sending samples. I think I am going to like it here, even if I still get lost on the train every single morning."},
		{Kind: tasks.KindPost, Title: "Lonely Sundays",
			Text: "Sundays are the hardest. Everyone I know is four hundred miles away, and the city feels enormous when you have nobody to call for brunch. I walked along the lake for three hours today and talked to exactly one person, the guy who sold me a hot dog. Next week I am signing up for the pottery class."},
		{Kind: tasks.KindPost, Title: "Pottery class disaster",
			Text: "My first bowl collapsed on the wheel twice before it became a sort of lopsided ashtray. The teacher said it had character. I met a girl in the class who also just moved here, and we are getting coffee on Thursday. So the bowl is ugly but the evening was lovely, and I will take that trade."},
		{Kind: tasks.KindPost, Title: "Three months in",
			Text: "Three months in Chicago today. I know which train goes where, the bakery logo went to print, and I have two actual friends from pottery who text me on Sundays. The radiator still clanks. I have decided it is part of the charm, the way the teacher decided my bowls have character. I think I am home."},
	}
	for i := range recs {
		recs[i].Source, recs[i].User, recs[i].Time = tasks.SourceBlogger, "u_blog", t0+int64(i)*20*day
		recs[i].Meta = map[string]string{"gender": "female", "age": "24", "industry": "Arts", "sign": "Libra"}
	}
	u := &tasks.User{Source: tasks.SourceBlogger, ID: "0f1e2d3c4b5a6978", Records: recs,
		Meta: map[string]string{"gender": "female", "age": "24", "industry": "Arts", "sign": "Libra"}}
	a := &tasks.Artifacts{
		Persona: "A 24-year-old woman working in the arts who recently moved to Chicago for a design job; warm, candid and gently funny about loneliness and new beginnings.",
		Profile: "The user is a 24-year-old woman in the arts industry. She moved to Chicago for a job at a design studio, into a tiny apartment with a clanking radiator. Her first project was a bakery logo. She felt lonely on Sundays far from family and friends, joined a pottery class, made lopsided bowls and two new friends. After three months she feels at home.",
		Style:   "The user writes diary-like blog posts in the first person, with short sentences, gentle humour and a hopeful closing line.",
		Topics:  []string{"moving to Chicago for a new job", "the first week at a design studio", "loneliness on Sundays in a new city", "a first pottery class", "three months in a new city"},
	}
	return u, a
}

// amazonUser reviews nine items; the catalog has 60 more in two categories,
// some without titles.
func amazonUser() (*tasks.User, *tasks.Artifacts, *MemCatalog) {
	t0 := int64(1388534400) // 2014-01-01
	cat := NewMemCatalog()
	own := []struct{ id, title string }{
		{"B000K01", "Lodge Cast Iron Skillet, 10.25 inch"},
		{"B000K02", "OXO Good Grips Silicone Spatula"},
		{"B000K03", "Victorinox Fibrox Chef's Knife, 8 inch"},
		{"B000K04", "Pyrex Glass Measuring Cup Set"},
		{"B000K05", "Nordic Ware Half Sheet Baking Pan"},
		{"B000K06", "Bodum Chambord French Press, 34 oz"},
		{"B000K07", "Microplane Classic Zester Grater"},
		{"B000K08", ""}, // no metadata
		{"B000K09", "KitchenAid Classic Stand Mixer"},
	}
	texts := []string{
		"Heavy, heats evenly and came pre-seasoned well enough to fry eggs on day one. After a month of use it is getting slicker every week. Handle gets hot, so keep a towel nearby.",
		"Does not melt, does not scratch my pans and the edge is thin enough to get under a pancake. Dishwasher safe too. I bought a second one so I always have a clean one.",
		"Sharp out of the box and stays sharp with a honing rod. The handle is not pretty but it is comfortable and never slips, even with wet hands. Best value knife I have owned.",
		"The markings are printed in red and started to fade after a few months in the dishwasher. The glass is sturdy though, and the spouts pour cleanly. Hand wash them and they will last.",
		"Bakes cookies evenly and has not warped at high heat, unlike my old dark pans. It does discolour over time, which bothers some people. I care more about even browning.",
		"Makes a rich cup and looks lovely on the counter. The mesh lets a little sediment through, which I do not mind. The glass feels thin, so be careful when you clean it.",
		"Zests lemons in seconds without the bitter pith and grates hard cheese into a snowy pile. Came with a cover that protects the blade in the drawer. Absolutely worth it.",
		"Works as described. It was smaller than I expected from the photos, but it does the job and the price was fair. Would probably buy again if this one breaks.",
		"Powerful, quiet enough, and the bowl is big enough for a double batch of bread dough. It is heavy, so find it a permanent home on the counter. Wish I had bought it years ago.",
	}
	recs := make([]tasks.Record, len(own))
	for i, o := range own {
		recs[i] = tasks.Record{Source: tasks.SourceAmazon, Kind: tasks.KindReview, User: "u_amz", Time: t0 + int64(i)*30*day,
			ItemID: o.id, ItemTitle: o.title, Rating: float64(5 - i%3), Community: "Kitchen & Dining",
			Title: []string{"Great skillet", "Best spatula", "Excellent knife", "Fading markings", "Even baking", "Good coffee", "Love it", "Fine", "Worth every penny"}[i], Text: texts[i]}
		cat.Add(o.id, o.title, "Kitchen & Dining")
	}
	for i := 0; i < 40; i++ {
		title := fmt.Sprintf("Kitchen Gadget Model %02d", i)
		if i%10 == 9 {
			title = ""
		}
		cat.Add(fmt.Sprintf("K%03d", i), title, "Kitchen & Dining")
	}
	// A negative that shares a title with one of the user's items must
	// never be offered.
	cat.Add("K900", "OXO Good Grips Silicone Spatula", "Kitchen & Dining")
	for i := 0; i < 20; i++ {
		cat.Add(fmt.Sprintf("T%03d", i), fmt.Sprintf("Toy Building Set %02d", i), "Toys & Games")
	}
	u := &tasks.User{Source: tasks.SourceAmazon, ID: "9f8e7d6c5b4a3921", Records: recs}
	a := &tasks.Artifacts{
		Persona: "A practical home cook who buys sturdy, good-value kitchen tools and writes short, balanced reviews.",
		Profile: "The user is a home cook who reviews kitchen tools. They bought a cast iron skillet, a silicone spatula, a chef's knife, measuring cups, a baking pan, a French press, a zester and a stand mixer, rating most of them highly and pointing out small flaws like fading markings or thin glass.",
		Topics:  []string{"a cast iron skillet", "a silicone spatula", "a chef's knife", "glass measuring cups", "a half sheet pan", "a French press", "a zester", "an unnamed kitchen item", "a stand mixer"},
	}
	return u, a, cat
}
